package kakaoauth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/kakaoauth/kakaoauth"
)

// ExampleNew mounts kakaoauth under /login in a program's own mux, beside a page of the
// program that greets the signed-in person.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kakaoauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := kakaoauth.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "kakaoauth.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ts := httptest.NewUnstartedServer(nil)
	srv, err := kakaoauth.New(ctx, kakaoauth.Config{
		PublicURL: "http://" + ts.Listener.Addr().String() + "/login",
		Secret:    "example-secret-of-at-least-32-characters",
		Kakao:     kakaoauth.Kakao{ClientID: "your-rest-api-key"},
	}, store)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/login/", srv)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := srv.User(r); ok {
			fmt.Fprintf(w, "안녕하세요, %s님", u.Nickname)
			return
		}
		fmt.Fprint(w, `<a href="/login/auth/kakao/login">카카오 로그인</a>`)
	})
	ts.Config.Handler = mux
	ts.Start()
	defer ts.Close()

	for _, path := range []string{"/login/healthz", "/"} {
		r, err := http.Get(ts.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		fmt.Printf("%s %d %s\n", path, r.StatusCode, body)
	}
	fmt.Println(srv.CallbackURL() == ts.URL+"/login/auth/kakao/callback")
	// Output:
	// /login/healthz 200 {"status":"ok"}
	// / 200 <a href="/login/auth/kakao/login">카카오 로그인</a>
	// true
}
