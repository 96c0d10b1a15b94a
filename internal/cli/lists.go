package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"herald/internal/config"
	"herald/internal/store"

	"github.com/spf13/cobra"
)

func (a *app) listsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "lists", Short: "manage mailing lists"}
	var style string
	create := &cobra.Command{
		Use: "create LIST@DOMAIN [key=value ...]", Short: "create a list", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name, domain, err := parseList(args[0])
			if err != nil {
				return err
			}
			s, err := styleSettings(name, style)
			if err != nil {
				return err
			}
			if err := applySettings(&s, args[1:]); err != nil {
				return err
			}
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l := &store.List{Name: name, Domain: domain, Settings: s}
				if err := st.CreateList(a.ctx, l); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("domain %s does not exist; add it with: herald domains add %s", domain, domain)
					}
					return fmt.Errorf("create list %s@%s: %w", name, domain, err)
				}
				if err := a.mtaChanged(cfg, st, "created list "+l.Address()); err != nil {
					return err
				}
				return a.done(map[string]any{"list": l.Address(), "status": "created"}, "created list %s\n", l.Address())
			})
		},
	}
	create.Flags().StringVar(&style, "style", "discussion", "list style: discussion, announce or private")
	ls := &cobra.Command{
		Use: "ls [DOMAIN]", Short: "list the lists", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			domain := ""
			if len(args) == 1 {
				domain = strings.ToLower(args[0])
			}
			return a.withStore(func(_ *config.Config, st store.Store) error {
				ls, err := st.ListLists(a.ctx, domain)
				if err != nil {
					return fmt.Errorf("list lists: %w", err)
				}
				if a.json {
					out := make([]map[string]any, 0, len(ls))
					for _, l := range ls {
						n, err := st.CountMembers(a.ctx, l.ID, store.RoleMember)
						if err != nil {
							return fmt.Errorf("count members of %s: %w", l.Address(), err)
						}
						out = append(out, map[string]any{"list": l.Address(), "display_name": l.Settings.DisplayName, "members": n})
					}
					return a.printJSON(out)
				}
				for _, l := range ls {
					a.printf("%s\n", l.Address())
				}
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use: "show LIST@DOMAIN", Short: "show a list's settings", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				return a.showList(st, l)
			})
		},
	}
	set := &cobra.Command{
		Use: "set LIST@DOMAIN key=value ...", Short: "change list settings", Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(_ *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				if err := applySettings(&l.Settings, args[1:]); err != nil {
					return err
				}
				if err := st.UpdateSettings(a.ctx, l.ID, l.Settings); err != nil {
					return fmt.Errorf("update %s: %w", l.Address(), err)
				}
				return a.done(map[string]any{"list": l.Address(), "status": "updated"}, "updated %s\n", l.Address())
			})
		},
	}
	rm := &cobra.Command{
		Use: "rm LIST@DOMAIN", Short: "remove a list with its members and held posts", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return a.withStore(func(cfg *config.Config, st store.Store) error {
				l, err := a.getList(st, args[0])
				if err != nil {
					return err
				}
				if err := st.DeleteList(a.ctx, l.ID); err != nil {
					return fmt.Errorf("remove %s: %w", l.Address(), err)
				}
				if err := a.mtaChanged(cfg, st, "removed "+l.Address()); err != nil {
					return err
				}
				return a.done(map[string]any{"list": l.Address(), "status": "removed"}, "removed %s\n", l.Address())
			})
		},
	}
	cmd.AddCommand(create, ls, show, set, rm)
	return cmd
}

func (a *app) showList(st store.Store, l *store.List) error {
	counts := map[string]int{}
	for _, r := range []store.Role{store.RoleMember, store.RoleOwner, store.RoleModerator, store.RoleNonmember} {
		n, err := st.CountMembers(a.ctx, l.ID, r)
		if err != nil {
			return fmt.Errorf("count %ss of %s: %w", r, l.Address(), err)
		}
		counts[string(r)] = n
	}
	settings := l.Settings.Map()
	if a.json {
		return a.printJSON(map[string]any{"list": l.Address(), "created": l.Created, "post_id": l.PostID,
			"counts": counts, "settings": settings})
	}
	a.printf("list: %s\ncreated: %s\nposts: %d\nmembers: %d  owners: %d  moderators: %d  nonmembers: %d\n",
		l.Address(), l.Created.Format("2006-01-02 15:04:05"), l.PostID,
		counts["member"], counts["owner"], counts["moderator"], counts["nonmember"])
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a.printf("%s = %s\n", k, quoteSetting(settings[k]))
	}
	return nil
}

// quoteSetting shows multi-line and padded values unambiguously.
func quoteSetting(v string) string {
	if strings.ContainsAny(v, "\n\r\t") || strings.TrimSpace(v) != v {
		return fmt.Sprintf("%q", v)
	}
	return v
}

// applySettings parses key=value arguments into s. Values may use \n for
// newlines (footers).
func applySettings(s *store.Settings, kvs []string) error {
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError{fmt.Errorf("%q: settings are key=value", kv)}
		}
		v = strings.ReplaceAll(v, `\n`, "\n")
		if err := s.Set(strings.TrimSpace(k), v); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// styleSettings returns the settings for a list style (Mailman's styles).
func styleSettings(name, style string) (store.Settings, error) {
	s := store.DefaultSettings(name)
	switch style {
	case "discussion", "":
	case "announce":
		// Only owners, moderators and approved posts go out: members and
		// nonmembers are held, while the member-moderation rule lets
		// owners and moderators through (even when they are members too).
		s.DefaultMemberAction = "hold"
		s.DefaultNonmemberAction = "hold"
		s.AllowListPosts = false
		s.ReplyGoesToList = "no_munging"
	case "private":
		s.SubscriptionPolicy = "confirm_then_moderate"
		s.ArchivePolicy = "private"
	default:
		return s, usageError{fmt.Errorf("style %q is not one of discussion, announce, private", style)}
	}
	return s, nil
}
