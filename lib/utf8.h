/*
 * utf8.h - UTF-8 well-formedness check for text that does not pass through
 * jansson (CSV fields).  Validation only; no decoding or normalisation.
 */
#ifndef SIPAS_UTF8_H
#define SIPAS_UTF8_H

#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t n);

#endif
