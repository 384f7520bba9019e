package logql

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by every error for a query that is not valid LogQL:
// one Loki would refuse, or one Tollgate refuses because Loki reads it in
// a way nobody means (see the lexer).
var ErrSyntax = errors.New("parse error")

// Error is a query that is not valid LogQL, with where.
type Error struct {
	Pos  int // byte offset
	Line int // 1-based
	Col  int // 1-based, in bytes
	Msg  string
}

func newError(src string, pos int, format string, args ...any) *Error {
	pos = min(max(pos, 0), len(src))
	line := 1 + strings.Count(src[:pos], "\n")
	col := pos - strings.LastIndexByte(src[:pos], '\n')
	return &Error{Pos: pos, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return ErrSyntax }
