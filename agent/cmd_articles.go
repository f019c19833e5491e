package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/localapi"
)

// `deskside-agent articles`: the self-help articles from the terminal, as
// Get help suggests them (the help desk's answer, else this computer's
// offline copy).
func init() {
	commands["articles"] = command{summary: "find help articles: articles search WORDS [--json], articles show ID", run: cmdArticles}
	synopsis["articles"] = " search WORDS [--json] | show ID [--json]"
}

func cmdArticles(ctx context.Context, args []string) error {
	return articlesCommand(ctx, os.Stdout, localapi.NewClient(os.Getenv("DESKSIDE_SOCKET")), args)
}

func articlesCommand(ctx context.Context, w io.Writer, b agentapi.Backend, args []string) error {
	fs := newFlags("articles")
	asJSON := fs.Bool("json", false, "print JSON")
	if len(args) == 0 || (args[0] != "search" && args[0] != "show") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.SetOutput(w)
			fs.Usage()
			return nil
		}
		return fmt.Errorf(`say what to do: deskside-agent articles search WORDS, or articles show ID`)
	}
	verb := args[0]
	// Flags may come before or after the words, and anything that is not
	// one of the command's flags is a word: a person searching for "-x" or
	// "c++" means the text.
	var flags, words []string
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			words = append(words, rest[i+1:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || f == nil {
			words = append(words, a)
			continue
		}
		flags = append(flags, a)
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool && !hasValue && i+1 < len(rest) {
			i++
			flags = append(flags, rest[i])
		}
	}
	if err := parse(fs, flags); err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(words, " "))
	if verb == "show" {
		if query == "" {
			return fmt.Errorf("which article? deskside-agent articles show ID (the ids are in articles search)")
		}
		a, err := b.Article(ctx, query)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(w, a)
		}
		fmt.Fprintf(w, "%s\n\n%s\n", a.Title, strings.TrimSpace(a.Body))
		return nil
	}
	if query == "" {
		return fmt.Errorf(`what are you looking for? deskside-agent articles search "printer offline"`)
	}
	s, err := b.SuggestArticles(ctx, query)
	if err != nil {
		return err
	}
	if *asJSON {
		if s.Articles == nil {
			s.Articles = []agentapi.Article{}
		}
		return writeJSON(w, s)
	}
	printArticles(w, s)
	return nil
}

func printArticles(w io.Writer, s agentapi.Suggestions) {
	if len(s.Articles) == 0 {
		fmt.Fprintf(w, "No help articles match “%s”. IT can help: deskside-agent ask \"what's going on\"\n", s.Query)
		return
	}
	if s.Source == agentapi.SourceOffline {
		fmt.Fprintln(w, "From the help articles on this computer (the help desk didn't answer):")
	} else {
		fmt.Fprintln(w, "From the help desk:")
	}
	for _, a := range s.Articles {
		fmt.Fprintf(w, "  %-16s %s\n", a.ID, firstLine(a.Title, 70))
		if a.Snippet != "" {
			fmt.Fprintf(w, "  %-16s %s\n", "", firstLine(a.Snippet, 70))
		}
	}
	fmt.Fprintln(w, "\nRead one: deskside-agent articles show ID")
}
