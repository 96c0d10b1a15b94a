package pipeline

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// fixed is a rule with a fixed verdict.
type fixed struct {
	name string
	v    Verdict
	err  error
}

func (f fixed) Name() string                                     { return f.name }
func (f fixed) Check(context.Context, *Message) (Verdict, error) { return f.v, f.err }

func hit(name string, act Action) fixed {
	return fixed{name: name, v: Verdict{Hit: true, Action: act, Reason: name + " hit"}}
}
func miss(name string) fixed { return fixed{name: name} }

func TestChainDecide(t *testing.T) {
	cases := []struct {
		name    string
		chain   Chain
		want    Action
		rule    string
		reasons []string
	}{
		{"empty chain accepts", nil, Accept, "", nil},
		{"first hit decides", Chain{{Rule: miss("a")}, {Rule: hit("b", ""), Action: Discard}, {Rule: hit("c", ""), Action: Hold}}, Discard, "b", []string{"b hit"}},
		{"link action overrides verdict", Chain{{Rule: hit("a", Hold), Action: Accept}}, Accept, "a", []string{"a hit"}},
		{"verdict action used when link has none", Chain{{Rule: hit("mod", Reject)}}, Reject, "mod", []string{"mod hit"}},
		{"defer goes on", Chain{{Rule: hit("mod", Defer)}, {Rule: hit("next", Hold)}}, Hold, "next", []string{"next hit"}},
		{"all misses accept", Chain{{Rule: miss("a")}, {Rule: miss("b")}}, Accept, "", nil},
		{"group collects reasons", Chain{
			{Rule: hit("size", ""), Action: Hold, Group: true},
			{Rule: miss("subject"), Action: Hold, Group: true},
			{Rule: hit("dest", ""), Action: Hold, Group: true},
			{Rule: hit("after", Discard)},
		}, Hold, "dest", []string{"size hit", "dest hit"}},
		{"group without hits goes on", Chain{
			{Rule: miss("size"), Action: Hold, Group: true},
			{Rule: hit("after", Discard)},
		}, Discard, "after", []string{"after hit"}},
		{"group at the end", Chain{{Rule: miss("x")}, {Rule: hit("g", ""), Action: Hold, Group: true}}, Hold, "g", []string{"g hit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := c.chain.Decide(context.Background(), &Message{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != c.want || d.Rule != c.rule || !reflect.DeepEqual(d.Reasons, c.reasons) {
				t.Errorf("got %+v, want %s %s %v", d, c.want, c.rule, c.reasons)
			}
		})
	}
}

func TestChainRuleError(t *testing.T) {
	boom := errors.New("store down")
	_, err := Chain{{Rule: fixed{name: "x", err: boom}}}.Decide(context.Background(), &Message{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}
