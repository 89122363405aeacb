/*
 * fold.h - the folded copy of a text that the comments' search indexes and
 * matches (docs/monitoring.md, "Comments"): lower case, Vietnamese
 * diacritics removed and đ/Đ folded to d, so that "thai do" finds "thái độ"
 * and "dat dai" finds "đất đai" whichever way the text was typed.
 * SQLite's unicode61 tokenizer removes most diacritics but keeps đ, and
 * knows nothing of text that arrives decomposed; folding first, in one
 * place, makes the stored index and the query agree.
 */
#ifndef SIPAS_FOLD_H
#define SIPAS_FOLD_H

#include <stddef.h>

/* The folded copy of s[0..n): ASCII letters in lower case; the precomposed
 * Latin letters of U+00C0-U+024F and U+1EA0-U+1EF9 as their base letter in
 * lower case (đ and Đ as d; a letter with no Latin base, such as æ or ß,
 * is kept); combining marks U+0300-U+036F dropped; every other character
 * kept as it is.  A byte that does not start a well-formed UTF-8 sequence
 * (and a NUL) is replaced by U+FFFD, so any bytes give valid UTF-8.
 * Returns a NUL-terminated string owned by the caller (free()), with its
 * length in *len when len is not NULL; NULL when out of memory. */
char *fold_text(const char *s, size_t n, size_t *len);

#endif
