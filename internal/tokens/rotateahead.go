package tokens

import (
	"context"
	"time"
)

// SetPublishAhead makes Rotate publish first and sign later: the new key is stored at once (so
// each replica's next Reload adds it to its JWKS and its verifier) but signs only from ahead
// after the rotation, when the keys signing until then retire. With ahead at least the replicas'
// reload interval (twice it, to be safe), no replica meets a token of a key it does not know yet
// (no 401 spike across replicas). 0, the default, signs with the new key at once.
func (i *Issuer) SetPublishAhead(ahead time.Duration) { i.ahead.Store(int64(max(ahead, 0))) }

// RotateAhead is Rotate with the new key signing from ahead after now; it returns the new kid.
// ahead 0 signs with it at once (before DropOtherKeys, after a leak).
func (i *Issuer) RotateAhead(ctx context.Context, ahead time.Duration) (string, error) {
	return i.rotate(ctx, max(ahead, 0))
}

// RotationPending reports whether a rotation has published a key that does not sign yet (as of
// the last Reload or Rotate): a scheduled rotation waits for it instead of adding another.
func (i *Issuer) RotationPending() bool { return i.ring.Load().pending }
