package migrate

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestList(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0010_later.sql":      {Data: []byte("CREATE TABLE c (x int);")},
		"migrations/0002_grace_uses.sql": {Data: []byte("ALTER TABLE t ADD COLUMN n int;")},
		"migrations/0001_init.sql":       {Data: []byte("CREATE TABLE t (x int);")},
		"migrations/README.md":           {Data: []byte("not a migration")},
		"migrations/old/0000_gone.sql":   {Data: []byte("not applied: in a subdirectory")},
		"0003_outside.sql":               {Data: []byte("not applied: outside migrations/")},
	}
	got, err := List(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{
		{Version: "0001_init", SQL: "CREATE TABLE t (x int);"},
		{Version: "0002_grace_uses", SQL: "ALTER TABLE t ADD COLUMN n int;"},
		{Version: "0010_later", SQL: "CREATE TABLE c (x int);"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestList_None(t *testing.T) {
	got, err := List(fstest.MapFS{})
	if err != nil || len(got) != 0 {
		t.Errorf("List(empty) = %v, %v; want no migrations", got, err)
	}
}
