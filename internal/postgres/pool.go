package postgres

import "runtime"

// defaultMaxConns is the pool size without pool_max_conns: 4 connections per core, at least 8.
// A request holds a connection only for its statements, and PostgreSQL commits the
// transactions of concurrent connections together (one WAL flush for several), so a few per
// core keep the cores busy while others wait for the flush; every replica has its own pool,
// so N replicas open up to N times this (mind max_connections, default 100).
func defaultMaxConns() int32 { return int32(max(8, 4*runtime.GOMAXPROCS(0))) }
