/*
 * server/precis.c: PRECIS (RFC 8264) string classes and the two RFC 8265
 * profiles JIDs use. A profile is its mapping rules (width, spaces, case),
 * NFC, the code point validity of its string class with the context rules
 * of RFC 5892 appendix A, and for usernames the Bidi Rule of RFC 5893. The
 * rules are applied until the string no longer changes (RFC 8264 7). The
 * Unicode data (general category, Default_Ignorable_Code_Point, joining
 * type, scripts, NFKC for HasCompat, decomposition types for the width
 * mapping) is ICU's. JID syntax and lengths are left to jid.c.
 */
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "precis.h"

/*
 * Code units per working buffer. A part is at most 1023 bytes of UTF-8,
 * so at most 1023 units, and every unit of a result takes at least one
 * byte of UTF-8: a result that does not fit here is too long anyway.
 */
#define PRECIS_UMAX	2048
#define PRECIS_ROUNDS	4	/* the first application and 3 more */
#define PRECIS_VIRAMA	9	/* Canonical_Combining_Class Virama */

enum precis_class {
	PRECIS_IDENTIFIER,	/* RFC 8264 4.2 */
	PRECIS_FREEFORM,	/* RFC 8264 4.3 */
};

struct precis_profile {
	enum precis_class	 cls;
	int			 width;		/* fullwidth/halfwidth mapped */
	int			 spaces;	/* other Zs mapped to U+0020 */
	int			 lower;		/* Unicode toLowerCase() */
	int			 bidi;		/* RFC 5893 applies */
};

/* RFC 8265 3.3 */
static const struct precis_profile precis_username = {
	PRECIS_IDENTIFIER, 1, 0, 1, 1,
};
/* RFC 8265 4.2 */
static const struct precis_profile precis_opaque = {
	PRECIS_FREEFORM, 0, 1, 0, 0,
};

/* The derived property of RFC 8264 8; PP_SPECIAL is ID_DIS or FREE_PVAL. */
enum precis_prop {
	PP_PVALID,
	PP_SPECIAL,
	PP_CONTEXTJ,
	PP_CONTEXTO,
	PP_DISALLOWED,
	PP_UNASSIGNED,
};

/* RFC 5892 2.6, which RFC 8264 9.6 takes as is. */
static const struct {
	UChar32			 lo, hi;
	enum precis_prop	 prop;
} precis_exceptions[] = {
	{ 0x00b7, 0x00b7, PP_CONTEXTO },
	{ 0x00df, 0x00df, PP_PVALID },
	{ 0x0375, 0x0375, PP_CONTEXTO },
	{ 0x03c2, 0x03c2, PP_PVALID },
	{ 0x05f3, 0x05f4, PP_CONTEXTO },
	{ 0x0640, 0x0640, PP_DISALLOWED },
	{ 0x0660, 0x0669, PP_CONTEXTO },
	{ 0x06f0, 0x06f9, PP_CONTEXTO },
	{ 0x06fd, 0x06fe, PP_PVALID },
	{ 0x07fa, 0x07fa, PP_DISALLOWED },
	{ 0x0f0b, 0x0f0b, PP_PVALID },
	{ 0x3007, 0x3007, PP_PVALID },
	{ 0x302e, 0x302f, PP_DISALLOWED },
	{ 0x3031, 0x3035, PP_DISALLOWED },
	{ 0x303b, 0x303b, PP_DISALLOWED },
	{ 0x30fb, 0x30fb, PP_CONTEXTO },
};

/* HasCompat (RFC 8264 9.17): NFKC changes the code point. */
static int
precis_has_compat(UChar32 c)
{
	UErrorCode		 ec = U_ZERO_ERROR;
	const UNormalizer2	*nfkc = unorm2_getNFKCInstance(&ec);
	UChar			 s[2];
	int32_t			 n = 0;
	UBool			 ok;

	if (U_FAILURE(ec))
		return 1;
	U16_APPEND_UNSAFE(s, n, c);
	ok = unorm2_isNormalized(nfkc, s, n, &ec);
	return U_FAILURE(ec) || !ok;
}

static enum precis_prop
precis_prop(UChar32 c)
{
	size_t	 i;
	int	 gc, hst;

	for (i = 0; i < sizeof(precis_exceptions) /
	    sizeof(precis_exceptions[0]); i++)
		if (c >= precis_exceptions[i].lo && c <= precis_exceptions[i].hi)
			return precis_exceptions[i].prop;
	gc = u_charType(c);
	if (gc == U_UNASSIGNED &&
	    !u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
		return PP_UNASSIGNED;
	if (c >= 0x21 && c <= 0x7e)				/* ASCII7 */
		return PP_PVALID;
	if (u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL))
		return PP_CONTEXTJ;
	hst = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
	if (hst == U_HST_LEADING_JAMO || hst == U_HST_VOWEL_JAMO ||
	    hst == U_HST_TRAILING_JAMO)				/* OldHangulJamo */
		return PP_DISALLOWED;
	if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
	    u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
		return PP_DISALLOWED;
	if (gc == U_CONTROL_CHAR)
		return PP_DISALLOWED;
	if (precis_has_compat(c))
		return PP_SPECIAL;
	switch (gc) {
	case U_LOWERCASE_LETTER:		/* LetterDigits */
	case U_UPPERCASE_LETTER:
	case U_OTHER_LETTER:
	case U_DECIMAL_DIGIT_NUMBER:
	case U_MODIFIER_LETTER:
	case U_NON_SPACING_MARK:
	case U_COMBINING_SPACING_MARK:
		return PP_PVALID;
	case U_TITLECASE_LETTER:		/* OtherLetterDigits */
	case U_LETTER_NUMBER:
	case U_OTHER_NUMBER:
	case U_ENCLOSING_MARK:
	case U_SPACE_SEPARATOR:			/* Spaces */
	case U_MATH_SYMBOL:			/* Symbols */
	case U_CURRENCY_SYMBOL:
	case U_MODIFIER_SYMBOL:
	case U_OTHER_SYMBOL:
	case U_CONNECTOR_PUNCTUATION:		/* Punctuation */
	case U_DASH_PUNCTUATION:
	case U_START_PUNCTUATION:
	case U_END_PUNCTUATION:
	case U_INITIAL_PUNCTUATION:
	case U_FINAL_PUNCTUATION:
	case U_OTHER_PUNCTUATION:
		return PP_SPECIAL;
	default:
		return PP_DISALLOWED;
	}
}

static int
precis_jt(UChar32 c)
{
	return u_getIntPropertyValue(c, UCHAR_JOINING_TYPE);
}

static int
precis_script_is(UChar32 c, UScriptCode want)
{
	UErrorCode	 ec = U_ZERO_ERROR;

	return uscript_getScript(c, &ec) == want && U_SUCCESS(ec);
}

/* 1 when any of cp[0..n) lies in lo..hi. */
static int
precis_has_range(const UChar32 *cp, int32_t n, UChar32 lo, UChar32 hi)
{
	int32_t	 i;

	for (i = 0; i < n; i++)
		if (cp[i] >= lo && cp[i] <= hi)
			return 1;
	return 0;
}

/* The rule of RFC 5892 appendix A for cp[i], a CONTEXTJ or CONTEXTO. */
static int
precis_context_ok(const UChar32 *cp, int32_t n, int32_t i)
{
	UChar32	 c = cp[i];
	int32_t	 j;
	int	 jt;

	switch (c) {
	case 0x200c:			/* A.1 ZERO WIDTH NON-JOINER */
		if (i > 0 && u_getCombiningClass(cp[i - 1]) == PRECIS_VIRAMA)
			return 1;
		for (j = i - 1; j >= 0 && precis_jt(cp[j]) == U_JT_TRANSPARENT;
		    j--)
			;
		if (j < 0 || ((jt = precis_jt(cp[j])) != U_JT_LEFT_JOINING &&
		    jt != U_JT_DUAL_JOINING))
			return 0;
		for (j = i + 1; j < n && precis_jt(cp[j]) == U_JT_TRANSPARENT;
		    j++)
			;
		return j < n && ((jt = precis_jt(cp[j])) ==
		    U_JT_RIGHT_JOINING || jt == U_JT_DUAL_JOINING);
	case 0x200d:			/* A.2 ZERO WIDTH JOINER */
		return i > 0 && u_getCombiningClass(cp[i - 1]) == PRECIS_VIRAMA;
	case 0x00b7:			/* A.3 MIDDLE DOT: l·l */
		return i > 0 && i + 1 < n && cp[i - 1] == 'l' &&
		    cp[i + 1] == 'l';
	case 0x0375:			/* A.4 GREEK LOWER NUMERAL SIGN */
		return i + 1 < n && precis_script_is(cp[i + 1], USCRIPT_GREEK);
	case 0x05f3:			/* A.5, A.6 HEBREW GERESH, GERSHAYIM */
	case 0x05f4:
		return i > 0 && precis_script_is(cp[i - 1], USCRIPT_HEBREW);
	case 0x30fb:			/* A.7 KATAKANA MIDDLE DOT */
		for (j = 0; j < n; j++)
			if (precis_script_is(cp[j], USCRIPT_HIRAGANA) ||
			    precis_script_is(cp[j], USCRIPT_KATAKANA) ||
			    precis_script_is(cp[j], USCRIPT_HAN))
				return 1;
		return 0;
	}
	if (c >= 0x0660 && c <= 0x0669)	/* A.8 ARABIC-INDIC DIGITS */
		return !precis_has_range(cp, n, 0x06f0, 0x06f9);
	if (c >= 0x06f0 && c <= 0x06f9)	/* A.9 EXTENDED ARABIC-INDIC */
		return !precis_has_range(cp, n, 0x0660, 0x0669);
	return 0;
}

/* The Bidi Rule (RFC 5893 2) on a string that holds R, AL or AN. */
static int
precis_bidi_ok(const UChar32 *cp, int32_t n)
{
	int32_t	 i, last;
	int	 d, rtl, en = 0, an = 0, any_rtl = 0;

	for (i = 0; i < n; i++) {
		d = u_charDirection(cp[i]);
		if (d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC ||
		    d == U_ARABIC_NUMBER)
			any_rtl = 1;
	}
	if (!any_rtl || n == 0)
		return 1;		/* not a "Bidi domain name": no rule */
	d = u_charDirection(cp[0]);				/* 1 */
	if (d == U_LEFT_TO_RIGHT)
		rtl = 0;
	else if (d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC)
		rtl = 1;
	else
		return 0;
	for (i = 0; i < n; i++) {				/* 2, 5 */
		d = u_charDirection(cp[i]);
		switch (d) {
		case U_RIGHT_TO_LEFT:
		case U_RIGHT_TO_LEFT_ARABIC:
		case U_ARABIC_NUMBER:
			if (!rtl)
				return 0;
			an |= d == U_ARABIC_NUMBER;
			break;
		case U_LEFT_TO_RIGHT:
			if (rtl)
				return 0;
			break;
		case U_EUROPEAN_NUMBER:
			en = 1;
			break;
		case U_EUROPEAN_NUMBER_SEPARATOR:
		case U_COMMON_NUMBER_SEPARATOR:
		case U_EUROPEAN_NUMBER_TERMINATOR:
		case U_OTHER_NEUTRAL:
		case U_BOUNDARY_NEUTRAL:
		case U_DIR_NON_SPACING_MARK:
			break;
		default:
			return 0;
		}
	}
	if (rtl && en && an)					/* 4 */
		return 0;
	for (last = n - 1; last > 0 &&
	    u_charDirection(cp[last]) == U_DIR_NON_SPACING_MARK; last--)
		;
	d = u_charDirection(cp[last]);				/* 3, 6 */
	if (rtl)
		return d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC ||
		    d == U_EUROPEAN_NUMBER || d == U_ARABIC_NUMBER;
	return d == U_LEFT_TO_RIGHT || d == U_EUROPEAN_NUMBER;
}

/* Width Mapping Rule (RFC 8264 5.2.1, RFC 8265 3.3.1): <wide>, <narrow>. */
static enum precis_err
precis_map_width(const UChar *in, int32_t n, UChar *out, int32_t *outn)
{
	UErrorCode		 ec = U_ZERO_ERROR;
	const UNormalizer2	*nfkc = unorm2_getNFKCInstance(&ec);
	UChar			 dm[8];
	UChar32			 c;
	int32_t			 i = 0, o = 0, k, dt;

	if (U_FAILURE(ec))
		return PRECIS_DISALLOWED;
	while (i < n) {
		U16_NEXT(in, i, n, c);
		dt = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
		if ((dt == U_DT_WIDE || dt == U_DT_NARROW) &&
		    (k = unorm2_getRawDecomposition(nfkc, c, dm,
		    (int32_t)(sizeof(dm) / sizeof(dm[0])), &ec)) > 0 &&
		    U_SUCCESS(ec)) {
			if (o + k > PRECIS_UMAX)
				return PRECIS_TOO_LONG;
			memcpy(out + o, dm, k * sizeof(UChar));
			o += k;
			continue;
		}
		ec = U_ZERO_ERROR;
		if (o + U16_LENGTH(c) > PRECIS_UMAX)
			return PRECIS_TOO_LONG;
		U16_APPEND_UNSAFE(out, o, c);
	}
	*outn = o;
	return PRECIS_OK;
}

/* One application of profile pf: in[0..n) -> out, *outn units. */
static enum precis_err
precis_once(const struct precis_profile *pf, const UChar *in, int32_t n,
    UChar *out, int32_t *outn)
{
	UChar			 a[PRECIS_UMAX], b[PRECIS_UMAX];
	UChar32			 cp[PRECIS_UMAX];
	UErrorCode		 ec = U_ZERO_ERROR;
	const UNormalizer2	*nfc = unorm2_getNFCInstance(&ec);
	const UChar		*src = in;
	enum precis_err		 e;
	enum precis_prop	 p;
	int32_t			 len = n, i, k;
	UChar32			 c;

	if (U_FAILURE(ec))
		return PRECIS_DISALLOWED;
	if (pf->width) {
		if ((e = precis_map_width(src, len, a, &len)) != PRECIS_OK)
			return e;
		src = a;
	}
	if (pf->spaces) {		/* RFC 8265 4.2.1: additional mapping */
		if (src != a)
			memcpy(a, src, len * sizeof(UChar));
		for (i = 0; i < len; i++)
			if (a[i] != 0x20 && u_charType(a[i]) ==
			    U_SPACE_SEPARATOR)
				a[i] = 0x20;	/* every Zs is in the BMP */
		src = a;
	}
	if (pf->lower) {
		len = u_strToLower(b, PRECIS_UMAX, src, len, "", &ec);
		if (U_FAILURE(ec))
			return ec == U_BUFFER_OVERFLOW_ERROR ?
			    PRECIS_TOO_LONG : PRECIS_DISALLOWED;
		src = b;
	}
	len = unorm2_normalize(nfc, src, len, out, PRECIS_UMAX, &ec);
	if (U_FAILURE(ec))
		return ec == U_BUFFER_OVERFLOW_ERROR ? PRECIS_TOO_LONG :
		    PRECIS_DISALLOWED;
	*outn = len;

	for (i = 0, k = 0; i < len; k++) {
		U16_NEXT(out, i, len, c);
		cp[k] = c;
	}
	for (i = 0; i < k; i++) {
		p = precis_prop(cp[i]);
		if (p == PP_PVALID ||
		    (p == PP_SPECIAL && pf->cls == PRECIS_FREEFORM))
			continue;
		if (p == PP_CONTEXTJ || p == PP_CONTEXTO) {
			if (precis_context_ok(cp, k, i))
				continue;
			return PRECIS_CONTEXT;
		}
		return PRECIS_DISALLOWED;
	}
	if (pf->bidi && !precis_bidi_ok(cp, k))
		return PRECIS_BIDI;
	return PRECIS_OK;
}

static enum precis_err
precis_enforce(const struct precis_profile *pf, const char *in, size_t n,
    char *out, size_t outsz, size_t maxlen, size_t *lenp)
{
	UChar		 u[2][PRECIS_UMAX];
	int32_t		 len[2], blen;
	UErrorCode	 ec = U_ZERO_ERROR;
	enum precis_err	 e;
	int		 cur = 0, round;

	if (n > PRECIS_UMAX)
		return PRECIS_TOO_LONG;
	u_strFromUTF8(u[0], PRECIS_UMAX, &len[0], in, (int32_t)n, &ec);
	if (U_FAILURE(ec))
		return ec == U_BUFFER_OVERFLOW_ERROR ? PRECIS_TOO_LONG :
		    PRECIS_DISALLOWED;
	for (round = 0; round < PRECIS_ROUNDS; round++) {
		if ((e = precis_once(pf, u[cur], len[cur], u[!cur],
		    &len[!cur])) != PRECIS_OK)
			return e;
		if (len[0] == len[1] &&
		    memcmp(u[0], u[1], len[0] * sizeof(UChar)) == 0)
			break;
		cur = !cur;
	}
	if (round == PRECIS_ROUNDS)
		return PRECIS_UNSTABLE;
	if (len[cur] == 0)
		return PRECIS_EMPTY;
	u_strToUTF8(NULL, 0, &blen, u[cur], len[cur], &ec);
	if (ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(ec))
		return PRECIS_DISALLOWED;
	if ((size_t)blen > maxlen)
		return PRECIS_TOO_LONG;
	if ((size_t)blen + 1 > outsz)
		return PRECIS_NOSPACE;
	ec = U_ZERO_ERROR;
	u_strToUTF8(out, (int32_t)outsz, &blen, u[cur], len[cur], &ec);
	if (U_FAILURE(ec))
		return PRECIS_DISALLOWED;
	*lenp = (size_t)blen;
	return PRECIS_OK;
}

enum precis_err
precis_username_casemapped(const char *in, size_t n, char *out, size_t outsz,
    size_t maxlen, size_t *lenp)
{
	return precis_enforce(&precis_username, in, n, out, outsz, maxlen,
	    lenp);
}

enum precis_err
precis_opaque_string(const char *in, size_t n, char *out, size_t outsz,
    size_t maxlen, size_t *lenp)
{
	return precis_enforce(&precis_opaque, in, n, out, outsz, maxlen, lenp);
}
