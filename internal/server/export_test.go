package server

// ErrorStatuses is the error table as code → HTTP status, for the external tests (the OpenAPI
// document must list exactly these codes, each under its status).
func ErrorStatuses() map[string]int {
	out := make(map[string]int, len(errorTable))
	for _, row := range errorTable {
		out[row.code] = row.status
	}
	return out
}
