package rules

import (
	"context"
	"fmt"
	"strings"

	"herald/internal/mime"
	"herald/internal/pipeline"
)

// emailCommands are the commands of the -request address with the number
// of arguments each takes (Mailman's table).
var emailCommands = map[string][2]int{
	"confirm": {1, 1}, "help": {0, 0}, "info": {0, 0}, "lists": {0, 0}, "options": {0, 0},
	"password": {2, 2}, "remove": {0, 0}, "set": {3, 3}, "subscribe": {0, 3}, "unsubscribe": {0, 1},
	"who": {0, 2}, "join": {0, 3}, "leave": {0, 1},
}

// Administrivia limits: only the first lines of short texts are read, since
// command mail is short (Mailman reads ten lines of any post and so holds
// long posts that happen to start with "who knows").
const (
	administriviaLines    = 5
	administriviaMaxBytes = 2048
)

// Administrivia holds posts that look like email commands sent to the
// posting address instead of LIST-request: a Subject or one of the first
// non-blank body lines that is a command with a fitting number of
// arguments.
type Administrivia struct{}

// Name is the rule's name.
func (Administrivia) Name() string { return "administrivia" }

// Check reads the Subject and the first lines.
func (Administrivia) Check(_ context.Context, m *pipeline.Message) (pipeline.Verdict, error) {
	if !m.List.Settings.Administrivia {
		return pipeline.Verdict{}, nil
	}
	subject := mime.DecodeWords(m.Msg.Header.Get("Subject"))
	if isCommand(subject) {
		return hitAdministrivia(subject), nil
	}
	text := FirstText(m.Msg)
	if len(strings.TrimSpace(text)) > administriviaMaxBytes {
		return pipeline.Verdict{}, nil
	}
	n := 0
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if n++; n > administriviaLines {
			break
		}
		if isCommand(line) {
			return hitAdministrivia(line), nil
		}
	}
	return pipeline.Verdict{}, nil
}

func hitAdministrivia(line string) pipeline.Verdict {
	return pipeline.Verdict{Hit: true, Reason: fmt.Sprintf(
		"the post looks like an email command (%q); commands go to the -request address", clip(strings.TrimSpace(line), 60))}
}

// isCommand reports whether line is a command with a valid argument count.
func isCommand(line string) bool {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return false
	}
	n, ok := emailCommands[words[0]]
	args := len(words) - 1
	return ok && args >= n[0] && args <= n[1]
}
