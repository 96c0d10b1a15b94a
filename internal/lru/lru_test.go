package lru

import "testing"

func TestCache(t *testing.T) {
	var c Cache[int, string]
	c.Put(1, "one", 1)
	if _, ok := c.Get(1); ok {
		t.Error("the zero Cache kept a value")
	}
	c.SetLimit(10)
	c.Put(1, "one", 4)
	c.Put(2, "two", 4)
	c.Get(1) // 2 is now the least recently used
	c.Put(3, "three", 4)
	if _, ok := c.Get(2); ok {
		t.Error("the least recently used value stayed")
	}
	if v, ok := c.Get(1); !ok || v != "one" {
		t.Errorf("Get(1) = %q, %v", v, ok)
	}
	if v, ok := c.Get(3); !ok || v != "three" {
		t.Errorf("Get(3) = %q, %v", v, ok)
	}
	if c.Bytes() != 8 {
		t.Errorf("Bytes() = %d, want 8", c.Bytes())
	}
	c.Put(1, "uno", 2) // a new value replaces the old one's bytes
	if v, _ := c.Get(1); v != "uno" || c.Bytes() != 6 {
		t.Errorf("after replacing 1: %q, %d bytes, want uno, 6", v, c.Bytes())
	}
	c.Put(3, "too big", 11) // only drops what 3 had
	if _, ok := c.Get(3); ok || c.Bytes() != 2 {
		t.Errorf("after a value over the budget: 3 kept %v, %d bytes, want none, 2", ok, c.Bytes())
	}
	c.Delete(1)
	if _, ok := c.Get(1); ok || c.Bytes() != 0 {
		t.Error("Delete kept the value or its bytes")
	}
	c.Put(1, "one", 1)
	c.SetLimit(10)
	if _, ok := c.Get(1); ok || c.Bytes() != 0 {
		t.Error("SetLimit kept values")
	}
}
