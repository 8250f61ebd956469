package mock

import "testing"

// Every wire API has a complete entry and is routed by its path.
func TestAPITable(t *testing.T) {
	seen := map[string]bool{}
	for a, w := range apis {
		if w.path == "" || w.parse == nil || w.body == nil || w.errorBody == nil {
			t.Errorf("api %d: incomplete entry %+v", a, w)
		}
		if seen[w.path] {
			t.Errorf("api %d: path %s served twice", a, w.path)
		}
		seen[w.path] = true
		if ri := findRoute([]byte(w.path)); ri != a || routes[ri].api != api(a) || routes[ri].method != "POST" {
			t.Errorf("api %d: %s routes to %d (%+v)", a, w.path, ri, routes[ri])
		}
		if (w.head != nil || w.tail != nil) && w.token == nil {
			t.Errorf("api %d: a stream head or tail without token frames", a)
		}
	}
	for path, want := range map[string]int{"/v1/models": routeModels, "/health": routeHealth, "/metrics": routeMetrics, "/nope": routeOther} {
		if got := findRoute([]byte(path)); got != want {
			t.Errorf("findRoute(%s) = %d, want %d", path, got, want)
		}
	}
}
