package transport

import (
	"fmt"
	"net/url"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/redact"
)

// isRedirect reports the statuses that carry a Location to follow.
func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// redirect decides whether the redirect to loc that answered req (sent to
// tg with method, after hops earlier redirects) is followed, as common
// clients do, up to max_redirects: 307 and 308 repeat the request; 301, 302
// and 303 are followed only for GET and HEAD, because turning an inference
// POST into a GET (what browsers do) would measure a different request.
// Only a redirect to the same scheme, host and port is followed, so
// credentials never travel to another server. A redirect that is not
// followed fails the record with a message saying where it pointed.
func (t *HTTP) redirect(tg *target, req *Request, loc, method string, hops int, rec *record.Record) (*target, *Request, bool) {
	status := rec.Status
	refuse := func(why string) (*target, *Request, bool) {
		t.fail(rec, status, record.ErrRedirect, fmt.Sprintf("HTTP %d redirect to %s not followed: %s", status, truncate(redact.URL(loc), 200), why))
		return nil, nil, false
	}
	if t.cfg.MaxRedirects == 0 {
		return refuse("redirects are not followed (max_redirects=0); point the endpoint's url at the new address")
	}
	if hops >= t.cfg.MaxRedirects {
		return refuse(fmt.Sprintf("more than max_redirects (%d) redirects; point the endpoint's url at the final address", t.cfg.MaxRedirects))
	}
	if (status == 301 || status == 302 || status == 303) && method != "GET" && method != "HEAD" {
		return refuse(fmt.Sprintf("a %s would have to become a GET; point the endpoint's url at the new address", method))
	}
	base, err := url.Parse(req.URL)
	if err != nil {
		return refuse(err.Error())
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return refuse("invalid Location: " + err.Error())
	}
	next := base.ResolveReference(ref)
	ntg, err := t.target(next.String())
	if err != nil {
		return refuse(err.Error())
	}
	if ntg.https != tg.https || ntg.addr != tg.addr {
		return refuse("it leads to another server, which would receive the request's credentials; point the endpoint's url there if that is intended")
	}
	r := *req
	r.URL, r.Method = next.String(), method
	return ntg, &r, true
}
