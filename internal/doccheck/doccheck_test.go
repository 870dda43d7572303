package doccheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// A snippet is one fenced go block of a markdown file.
type snippet struct {
	file string // the markdown file, relative to the repository
	line int    // the line of the block's first line of code
	code string
	from string // the <!-- file: PATH --> it must equal, or ""
}

// known are the packages a snippet may use without importing them.
var known = map[string]string{
	"context":    "context",
	"errors":     "errors",
	"fmt":        "fmt",
	"http":       "net/http",
	"io":         "io",
	"log":        "log",
	"os":         "os",
	"signal":     "os/signal",
	"slog":       "log/slog",
	"strings":    "strings",
	"syscall":    "syscall",
	"time":       "time",
	"url":        "net/url",
	"zap":        "go.uber.org/zap",
	"metric":     "go.opentelemetry.io/otel/metric",
	"azidentity": "github.com/Azure/azure-sdk-for-go/sdk/azidentity",
	"container":  "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container",
	"renewer":    "github.com/leasehold/leasehold/renewer",
	"azlease":    "github.com/leasehold/leasehold/renewer/azlease",
	"leasetest":  "github.com/leasehold/leasehold/renewer/leasetest",
	"election":   "github.com/leasehold/leasehold/election",
	"mutex":      "github.com/leasehold/leasehold/mutex",
	"semaphore":  "github.com/leasehold/leasehold/semaphore",
	"shard":      "github.com/leasehold/leasehold/shard",
}

// root is the repository's top directory.
const root = "../.."

// markdown lists the files whose snippets are checked.
func markdown(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, strings.TrimPrefix(d, root+string(filepath.Separator)))
	}
	return files
}

var fileMarker = regexp.MustCompile(`^<!-- file: (\S+) -->$`)

// extract returns the go blocks of the markdown text md, named file.
func extract(file, md string) []snippet {
	var (
		out  []snippet
		cur  *snippet
		from string
		n    int
		code []string
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur, code = &snippet{file: file, line: n + 1, from: from}, nil
		case cur == nil:
			if m := fileMarker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				from = m[1]
			} else if strings.TrimSpace(line) != "" {
				from = ""
			}
		case strings.TrimSpace(line) == "```":
			cur.code = strings.Join(code, "\n") + "\n"
			out = append(out, *cur)
			cur, from = nil, ""
		default:
			code = append(code, line)
		}
	}
	return out
}

var (
	elidedBlock = regexp.MustCompile(`\{\s*\.\.\.\s*\}`)
	elidedLine  = regexp.MustCompile(`(?m)^\s*\.\.\.\s*$`)
	topLevel    = regexp.MustCompile(`(?m)^(func|type) `)
)

// source turns a snippet into a Go file, and says at which line of the
// file the snippet's first line is.
func source(s snippet) (string, int) {
	code := elidedBlock.ReplaceAllString(s.code, "{}")
	code = elidedLine.ReplaceAllString(code, "")
	if strings.HasPrefix(strings.TrimSpace(code), "package ") {
		return code, 1
	}
	var imports []string
	if rest, ok := strings.CutPrefix(strings.TrimLeft(code, "\n"), "import ("); ok {
		block, after, _ := strings.Cut(rest, ")")
		for _, l := range strings.Split(block, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				imports = append(imports, l)
			}
		}
		code = after
	}
	have := map[string]bool{}
	for _, imp := range imports {
		p := strings.Trim(imp[strings.LastIndex(imp, " ")+1:], `"`)
		have[p[strings.LastIndex(p, "/")+1:]] = true
	}
	body, skip := code, 1
	if !topLevel.MatchString(code) {
		body, skip = "func _() {\n"+code+"}\n", 2
	}
	// The packages the code names (pkg.Name, outside comments and
	// strings), found in its syntax tree, are imported from the table.
	if f, err := parser.ParseFile(token.NewFileSet(), "", "package snippet\n"+body, parser.SkipObjectResolution); err == nil {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && !have[id.Name] {
					if p, ok := known[id.Name]; ok {
						have[id.Name] = true
						imports = append(imports, `"`+p+`"`)
					}
				}
			}
			return true
		})
	}
	var b strings.Builder
	b.WriteString("package snippet\n\nimport (\n")
	for _, imp := range imports {
		b.WriteString("\t" + imp + "\n")
	}
	b.WriteString(")\n\n")
	head := strings.Count(b.String(), "\n")
	b.WriteString(body)
	return b.String(), head + skip
}

// exports returns the export data files of the packages that snippets may
// import, and their dependencies, built by the go command.
func exports(t *testing.T, paths []string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export"}, paths...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	m := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m[p.ImportPath] = p.Export
	}
	return m
}

// check type-checks a snippet and returns what is wrong with it.
func check(s snippet, imp types.Importer) []string {
	if s.from != "" {
		want, err := os.ReadFile(filepath.Join(root, s.from))
		switch {
		case err != nil:
			return []string{fmt.Sprintf("%s:%d: the file it shows: %v", s.file, s.line, err)}
		case string(want) != s.code:
			return []string{fmt.Sprintf("%s:%d: not the same as %s: copy the file into the block again", s.file, s.line, s.from)}
		}
		return nil
	}
	src, first := source(s)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "snippet.go", src, 0)
	at := func(pos token.Position) string {
		return fmt.Sprintf("%s:%d", s.file, s.line+pos.Line-first)
	}
	if err != nil {
		var out []string
		for _, line := range strings.Split(err.Error(), "\n") {
			out = append(out, fmt.Sprintf("%s: %s", s.file, line))
		}
		return out
	}
	called := map[string]bool{} // unqualified names the snippet calls
	ast.Inspect(f, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok {
				called[id.Name] = true
			}
		}
		return true
	})
	var errs []string
	conf := types.Config{Importer: imp, Error: func(err error) {
		te, ok := err.(types.Error)
		if !ok {
			errs = append(errs, err.Error())
			return
		}
		msg := te.Msg
		switch {
		case strings.HasPrefix(msg, "declared and not used"), strings.HasSuffix(msg, "imported and not used"):
			return // a fragment's last values are the reader's to use; an import block may stand alone
		case strings.HasPrefix(msg, "undefined: ") && called[strings.TrimPrefix(msg, "undefined: ")]:
			return // the reader's own function
		}
		errs = append(errs, fmt.Sprintf("%s: %s", at(fset.Position(te.Pos)), msg))
	}}
	_, _ = conf.Check("snippet", fset, []*ast.File{f}, nil)
	return errs
}

// lookup opens export data from the go command's build cache.
type lookup map[string]string

func (l lookup) open(path string) (io.ReadCloser, error) {
	f, ok := l[path]
	if !ok || f == "" {
		return nil, fmt.Errorf("no export data for %q (not in the snippet import table?)", path)
	}
	return os.Open(f)
}

func importerFor(t *testing.T, fset *token.FileSet) types.Importer {
	t.Helper()
	var paths []string
	for _, p := range known {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return importer.ForCompiler(fset, "gc", lookup(exports(t, paths)).open)
}

// TestSnippetsCompile type-checks every go block of README.md and
// docs/*.md (see the package doc for the rules).
func TestSnippetsCompile(t *testing.T) {
	imp := importerFor(t, token.NewFileSet())
	total := 0
	for _, file := range markdown(t) {
		md, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range extract(file, string(md)) {
			total++
			for _, e := range check(s, imp) {
				t.Error(e)
			}
		}
	}
	if total == 0 {
		t.Fatal("no go blocks found: the check would pass on anything")
	}
	t.Logf("%d snippets checked", total)
}

// TestCheckFindsBrokenSnippets: the check fails a snippet that calls a
// function the wrong way, one that uses a variable no block defines, one
// with a syntax error, and one that no longer matches its file; it passes
// a good fragment with elisions and a call to the reader's own function.
func TestCheckFindsBrokenSnippets(t *testing.T) {
	imp := importerFor(t, token.NewFileSet())
	md := strings.Join([]string{
		"```go",
		"cc, err := container.NewClientFromConnectionString(os.Getenv(\"C\"), \"locks\", nil)",
		"if err != nil { ... }",
		"s, err := semaphore.New(\"enc\", 2, nil, semaphore.WithLister(azlease.NewLister(cc)))",
		"```",
		"",
		"```go",
		"r, err := renewer.New(l)",
		"```",
		"",
		"```go",
		"r, err := renewer.New(",
		"```",
		"",
		"<!-- file: examples/quickstart/mutex/main.go -->",
		"```go",
		"package main",
		"```",
		"",
		"```go",
		"ctx := context.Background()",
		"l := leasetest.New()",
		"r, err := renewer.New(l, renewer.WithIdentity(\"a\"))",
		"if err != nil { ... }",
		"ls, err := r.Acquire(ctx)",
		"if err != nil {",
		"\t...",
		"}",
		"useTheLease(ls.Context(), ls.Term())",
		"```",
	}, "\n")
	got := extract("test.md", md)
	if len(got) != 5 {
		t.Fatalf("extracted %d blocks, want 5", len(got))
	}
	for i, want := range []string{"too many arguments in call to semaphore.WithLister", "undefined: l", "expected", "not the same as examples/quickstart/mutex/main.go", ""} {
		errs := check(got[i], imp)
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("block %d: %v, want no error", i+1, errs)
		case want != "" && !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }):
			t.Errorf("block %d: %v, want an error containing %q", i+1, errs, want)
		}
	}
}
