// Package doccheck holds the test that compiles every Go snippet of the
// repository's README.md and docs/*.md (see doccheck_test.go): a snippet
// that no longer type-checks against the library fails make test.
//
// The rules for a snippet (a fenced block marked go):
//   - A block that starts with a package clause is a whole file.
//   - Any other block is the body of a function, or, if it declares
//     top-level functions or types, the declarations of a file; its import
//     block, if it has one, is kept, and the packages it names without
//     importing are imported from a fixed table (context, time, renewer,
//     election, azlease, ...).
//   - "..." alone, or as the body of a block ({ ... }), is an elision.
//   - Values declared and not used, and imports not used, are allowed: a
//     fragment's last values, or an import block, are the reader's to use.
//   - A call to an unqualified function the snippet does not define stands
//     for the reader's own code (leaderLoop(ctx, term)); every other name
//     must be defined in the snippet itself: no variable comes from another
//     section.
//   - A block right after a line <!-- file: PATH --> must be exactly the
//     file PATH of the repository, which the build compiles.
package doccheck
