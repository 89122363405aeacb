/*
 * fold.c - folding text for search (see fold.h): one pass over the UTF-8,
 * one table from a precomposed letter to its base.
 */
#include "fold.h"

#include <stdint.h>
#include <stdlib.h>

/* The base letter of each code point from a block's first on, one
 * character per code point: '-' keeps the letter as it is.  Derived from
 * the Unicode canonical decompositions (the first character of each NFD),
 * with đ/Đ (U+0110, U+0111), which have none, as d. */
static const char fold_latin[] =               /* U+00C0-U+024F */
	"aaaaaa-ceeeeiiii-nooooo--uuuuy--"      /* U+00C0 */
	"aaaaaa-ceeeeiiii-nooooo--uuuuy-y"      /* U+00E0 */
	"aaaaaaccccccccddddeeeeeeeeeegggg"      /* U+0100: Đ đ at U+0110 */
	"gggghh--iiiiiiiii---jjkk-llllll-"      /* U+0120 */
	"---nnnnnn---oooooo--rrrrrrssssss"      /* U+0140 */
	"sstttt--uuuuuuuuuuuuwwyyyzzzzzz-"      /* U+0160 */
	"--------------------------------"      /* U+0180 */
	"oo-------------uu---------------"      /* U+01A0: Ơ ơ, Ư ư */
	"-------------aaiioouuuuuuuuuu-aa"      /* U+01C0 */
	"aa----ggkkoooo--j---gg--nnaa----"      /* U+01E0 */
	"aaaaeeeeiiiioooorrrruuuusstt--hh"      /* U+0200 */
	"------aaeeooooooooyy------------"      /* U+0220 */
	"----------------";                     /* U+0240 */
static const char fold_vietnamese[] =          /* U+1EA0-U+1EF9 */
	"aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee"      /* U+1EA0: Ạ ạ Ả ả Ấ ấ ... */
	"eeeeeeeeiiiioooooooooooooooooooo"      /* U+1EC0 */
	"oooouuuuuuuuuuuuuuyyyyyyyy";           /* U+1EE0 */

_Static_assert(sizeof(fold_latin) - 1 == 0x0250 - 0x00C0, "one letter per code point");
_Static_assert(sizeof(fold_vietnamese) - 1 == 0x1EFA - 0x1EA0, "one letter per code point");

static const struct {
	uint32_t first;
	size_t n;
	const char *base;
} fold_blocks[] = {
	{ 0x00C0, sizeof(fold_latin) - 1, fold_latin },
	{ 0x1EA0, sizeof(fold_vietnamese) - 1, fold_vietnamese },
};

#define FOLD_REPLACEMENT "\xEF\xBF\xBD"  /* U+FFFD */

/* The length of the well-formed UTF-8 sequence at s[0..n) and its code
 * point in *cp, or 0 when s does not start one (RFC 3629 §4). */
static size_t fold_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned lo = 0x80, hi = 0xBF;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, *cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, *cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[k] & 0x3F);
	}
	return len;
}

/* The base letter of cp, or 0 when it has none to fold to. */
static char fold_base(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(fold_blocks) / sizeof(fold_blocks[0]); i++)
		if (cp >= fold_blocks[i].first && cp - fold_blocks[i].first < fold_blocks[i].n) {
			char base = fold_blocks[i].base[cp - fold_blocks[i].first];

			return base == '-' ? 0 : base;
		}
	return 0;
}

/* A combining mark of decomposed text: its letter came before it. */
static int fold_is_mark(uint32_t cp)
{
	return cp >= 0x0300 && cp <= 0x036F;
}

char *fold_text(const char *s, size_t n, size_t *len)
{
	const unsigned char *in = (const unsigned char *)s;
	/* a replaced byte grows to 3; nothing else grows */
	char *out = n > (SIZE_MAX - 1) / 3 ? NULL : malloc(3 * n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = fold_decode(in + i, n - i, &cp);
		char base;

		if (k == 0 || cp == 0) {
			for (const char *r = FOLD_REPLACEMENT; *r; r++)
				out[o++] = *r;
			i++;
			continue;
		}
		if (cp >= 'A' && cp <= 'Z')
			out[o++] = (char)(cp - 'A' + 'a');
		else if ((base = fold_base(cp)) != 0)
			out[o++] = base;
		else if (!fold_is_mark(cp))
			for (size_t j = 0; j < k; j++)
				out[o++] = (char)in[i + j];
		i += k;
	}
	out[o] = '\0';
	if (len)
		*len = o;
	return out;
}
