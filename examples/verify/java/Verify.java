// Verify.java checks a kakaoauth access token as a Java backend should, with Nimbus JOSE+JWT
// (com.nimbusds:nimbus-jose-jwt 10.x).
//
//   KAKAOAUTH_ISSUER=https://auth.example.com KAKAOAUTH_AUDIENCE=https://auth.example.com \
//     java -cp nimbus-jose-jwt.jar Verify.java "$ACCESS_TOKEN"
//
// It prints the token's claims as JSON and exits 0, or prints why the token is refused and
// exits 1. KAKAOAUTH_JWKS_URL overrides the key set's address (default: the issuer's
// /.well-known/jwks.json). Unlike the Node and Python snippets, this one is not run by the
// test suite: the machines that run it have no Maven repository to fetch Nimbus from.

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.net.URI;
import java.text.ParseException;
import java.util.Set;

public final class Verify {
  public static void main(String[] args) throws MalformedURLException {
    String issuer = System.getenv("KAKAOAUTH_ISSUER");
    String audience = System.getenv("KAKAOAUTH_AUDIENCE");
    if (issuer == null || audience == null || args.length != 1) {
      System.err.println("usage: KAKAOAUTH_ISSUER=… KAKAOAUTH_AUDIENCE=… java Verify.java TOKEN");
      System.exit(2);
    }
    String jwksURL = System.getenv().getOrDefault(
        "KAKAOAUTH_JWKS_URL", issuer.replaceAll("/$", "") + "/.well-known/jwks.json");
    DefaultJWTProcessor<SecurityContext> processor = processor(issuer, audience, jwksURL);
    try {
      JWTClaimsSet claims = processor.process(args[0], null);
      System.out.println(claims.toString()); // the claims as JSON
    } catch (ParseException | BadJOSEException | JOSEException e) {
      System.err.println("invalid token: " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.exit(1);
    }
  }

  // processor is made once and shared by every request: its key source caches the keys
  // (5 minutes by default) and fetches them again, rate-limited, when a token names a kid it
  // does not know.
  static DefaultJWTProcessor<SecurityContext> processor(String issuer, String audience, String jwksURL)
      throws MalformedURLException {
    JWKSource<SecurityContext> keys = JWKSourceBuilder.create(URI.create(jwksURL).toURL()).retrying(true).build();
    DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
    p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
    // ES256 (kakaoauth's keys) and RS256 only: never HS256 or none.
    p.setJWSKeySelector(new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256), keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        audience, // aud must contain it
        new JWTClaimsSet.Builder().issuer(issuer).build(), // iss must equal it
        Set.of("exp", "iat", "sub"));
    claims.setMaxClockSkew(60); // seconds of leeway for exp, nbf and iat
    p.setJWTClaimsSetVerifier(claims);
    return p;
  }
}
