/* Unit tests for multipart: strict multipart/form-data parsing for upload_media (spec §13). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/multipart.h"

#define CT_B "multipart/form-data; boundary=B"

/* What curl 7.88 sends for `curl -F media=@a.txt;filename=a.txt` with a.txt = "hello\n". */
#define CURL_CT "multipart/form-data; boundary=------------------------4ebf00fbcf09a5c2"
static const char CURL_BODY[] = "--------------------------4ebf00fbcf09a5c2\r\n"
                                "Content-Disposition: form-data; name=\"media\"; "
                                "filename=\"a.txt\"\r\n"
                                "Content-Type: text/plain\r\n"
                                "\r\n"
                                "hello\n"
                                "\r\n"
                                "--------------------------4ebf00fbcf09a5c2--\r\n";

/* The upload_media request from WeCom's doc 55293, with its line breaks as CRLF. */
#define WECOM_CT "multipart/form-data; boundary=-------------------------acebdf13572468"
static const char WECOM_BODY[] = "---------------------------acebdf13572468\r\n"
                                 "Content-Disposition: form-data; name=\"media\";"
                                 "filename=\"wework.txt\"; filelength=6\r\n"
                                 "Content-Type: application/octet-stream\r\n"
                                 "\r\n"
                                 "mytext\r\n"
                                 "---------------------------acebdf13572468--";

/* One parse over an exact-size heap copy of the body, so ASan reports any read past its end. */
typedef struct parsed {
    zl_mp_result r;
    char *body; /* the parts point into it */
    char err[256];
    int rc;
} parsed;

static void parse_bytes(parsed *pr, const char *ct, const char *body, size_t len)
{
    pr->body = malloc(len > 0 ? len : 1);
    assert_non_null(pr->body);
    if (len > 0)
        memcpy(pr->body, body, len);
    memset(pr->err, 'x', sizeof pr->err);
    pr->rc = zl_mp_parse(ct, pr->body, len, &pr->r, pr->err, sizeof pr->err);
    assert_true(pr->rc == 0 || pr->rc == -1);
    assert_non_null(memchr(pr->err, '\0', sizeof pr->err));
    if (pr->rc == 0) {
        assert_string_equal(pr->err, "");
        assert_non_null(pr->r.parts);
        assert_true(pr->r.count >= 1 && pr->r.count <= ZL_MP_MAX_PARTS);
    } else {
        assert_true(strlen(pr->err) > 10);
        assert_null(pr->r.parts);
        assert_int_equal(pr->r.count, 0);
    }
}

#define PARSE_LIT(pr, ct, lit) parse_bytes((pr), (ct), (lit), sizeof(lit) - 1)

static void parsed_cleanup(parsed *pr)
{
    zl_mp_free(&pr->r);
    free(pr->body);
    pr->body = NULL;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" not found in \"%s\"", needle, haystack);
}

/* Parses and expects -1 with err containing want. */
static void expect_error_n(const char *ct, const char *body, size_t len, const char *want)
{
    parsed pr;

    parse_bytes(&pr, ct, body, len);
    if (pr.rc != -1)
        fail_msg("expected an error containing \"%s\", got success", want);
    assert_contains(pr.err, want);
    parsed_cleanup(&pr);
}

static void expect_error(const char *ct, const char *body, const char *want)
{
    expect_error_n(ct, body, strlen(body), want);
}

static void assert_data(const zl_mp_part *p, const char *want, size_t len)
{
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, want, len);
}

static void test_multipart_curl_body(void **state)
{
    parsed pr;
    const zl_mp_part *p;

    (void)state;
    PARSE_LIT(&pr, CURL_CT, CURL_BODY);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 1);
    p = zl_mp_find(&pr.r, "media");
    assert_ptr_equal(p, &pr.r.parts[0]);
    assert_string_equal(p->name, "media");
    assert_string_equal(p->filename, "a.txt");
    assert_string_equal(p->content_type, "text/plain");
    assert_int_equal(p->filelength, -1);
    assert_data(p, "hello\n", 6);
    assert_true(p->data >= pr.body && p->data + p->len <= pr.body + sizeof CURL_BODY - 1);
    assert_null(zl_mp_find(&pr.r, "Media"));
    assert_null(zl_mp_find(&pr.r, "file"));
    parsed_cleanup(&pr);
}

static void test_multipart_wecom_doc_example(void **state)
{
    parsed pr;
    const zl_mp_part *p;

    (void)state;
    PARSE_LIT(&pr, WECOM_CT, WECOM_BODY);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 1);
    p = zl_mp_find(&pr.r, "media");
    assert_non_null(p);
    assert_string_equal(p->filename, "wework.txt");
    assert_string_equal(p->content_type, "application/octet-stream");
    assert_int_equal(p->filelength, 6);
    assert_data(p, "mytext", 6);
    parsed_cleanup(&pr);
}

static void test_multipart_binary_data(void **state)
{
    /* NULs, CR, LF, "--", a line starting with a prefix of the boundary, the boundary not at the
     * start of a line, and a CR as the last data byte. */
    static const char data[] = "\0\r\n\0--\r\n--BOUNDAR\n--BOUNDAR\r\nx--BOUNDARY\r\n\r\n\n\r\r";
    static const char body[] = "--BOUNDARY\r\n"
                               "Content-Disposition: form-data; name=media; filename=b.bin\r\n"
                               "\r\n"
                               "\0\r\n\0--\r\n--BOUNDAR\n--BOUNDAR\r\nx--BOUNDARY\r\n\r\n\n\r\r"
                               "\r\n--BOUNDARY--";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, "multipart/form-data; boundary=BOUNDARY", body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 1);
    assert_string_equal(pr.r.parts[0].filename, "b.bin");
    assert_null(pr.r.parts[0].content_type);
    assert_data(&pr.r.parts[0], data, sizeof data - 1);
    parsed_cleanup(&pr);
}

static void test_multipart_two_parts(void **state)
{
    static const char body[] = "--B\r\n"
                               "Content-Disposition: form-data; name=\"type\"\r\n"
                               "\r\n"
                               "file\r\n"
                               "--B\r\n"
                               "Content-Disposition: form-data; name=\"media\"; filename=\"x\"; "
                               "filelength=3\r\n"
                               "Content-Type: application/octet-stream\r\n"
                               "\r\n"
                               "abc\r\n"
                               "--B\r\n"
                               "Content-Disposition: form-data; name=\"type\"\r\n"
                               "\r\n"
                               "second\r\n"
                               "--B--\r\n";
    parsed pr;
    const zl_mp_part *p;

    (void)state;
    PARSE_LIT(&pr, CT_B, body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 3);
    p = zl_mp_find(&pr.r, "type");
    assert_ptr_equal(p, &pr.r.parts[0]); /* the first of two */
    assert_null(p->filename);
    assert_null(p->content_type);
    assert_int_equal(p->filelength, -1);
    assert_data(p, "file", 4);
    p = zl_mp_find(&pr.r, "media");
    assert_ptr_equal(p, &pr.r.parts[1]);
    assert_string_equal(p->filename, "x");
    assert_int_equal(p->filelength, 3);
    assert_data(p, "abc", 3);
    assert_data(&pr.r.parts[2], "second", 6);
    parsed_cleanup(&pr);
}

static void test_multipart_quoted_boundary(void **state)
{
    static const char body[] = "--a b:c=d?\r\n"
                               "Content-Disposition: form-data; name=\"media\"\r\n"
                               "\r\n"
                               "v\r\n"
                               "--a b:c=d?--";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, "Multipart/Form-Data ; charset=utf-8; BOUNDARY=\"a b:c=d?\"", body);
    assert_int_equal(pr.rc, 0);
    assert_data(&pr.r.parts[0], "v", 1);
    parsed_cleanup(&pr);
    /* The same boundary unquoted stops at the space and is not found in the body. */
    expect_error("multipart/form-data; boundary=a b:c=d?", body, "malformed");
}

static void test_multipart_boundary_limits(void **state)
{
    char ct[160], body[256];
    char b70[ZL_MP_MAX_BOUNDARY + 2];
    parsed pr;

    (void)state;
    memset(b70, 'q', sizeof b70);
    b70[ZL_MP_MAX_BOUNDARY] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", b70);
    snprintf(body, sizeof body,
             "--%s\r\nContent-Disposition: form-data; name=media\r\n\r\nz\r\n--%s--", b70, b70);
    parse_bytes(&pr, ct, body, strlen(body));
    assert_int_equal(pr.rc, 0);
    assert_data(&pr.r.parts[0], "z", 1);
    parsed_cleanup(&pr);

    b70[ZL_MP_MAX_BOUNDARY] = 'q';
    b70[ZL_MP_MAX_BOUNDARY + 1] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", b70);
    expect_error(ct, body, "longer than 70");
    expect_error("multipart/form-data; boundary=\"\"", "--\r\n", "boundary is empty");
    expect_error("multipart/form-data; boundary=\"a@b\"", "--a@b--", "RFC 2046");
    expect_error("multipart/form-data; boundary=\"ab \"", "--ab --", "ends with a space");
    expect_error("multipart/form-data; boundary=a; boundary=b", "--a--", "more than one boundary");
    expect_error("multipart/form-data; boundary=\"ab", "--ab--", "closing quote");
    expect_error("multipart/form-data; boundary=", "--ab--", "no value");
}

static void test_multipart_missing_boundary_param(void **state)
{
    (void)state;
    expect_error("multipart/form-data", CURL_BODY, "Content-Type has no boundary parameter");
    expect_error("multipart/form-data; charset=utf-8", CURL_BODY, "no boundary parameter");
    expect_error("multipart/form-data;", CURL_BODY, "no boundary parameter");
}

static void test_multipart_wrong_content_type(void **state)
{
    parsed pr;

    (void)state;
    expect_error("application/json", CURL_BODY, "Content-Type is not multipart/form-data");
    expect_error("multipart/mixed; boundary=B", CURL_BODY, "not multipart/form-data");
    expect_error("multipart/form-dataz; boundary=B", CURL_BODY, "not multipart/form-data");
    expect_error("", CURL_BODY, "not multipart/form-data");
    PARSE_LIT(&pr, NULL, CURL_BODY);
    assert_int_equal(pr.rc, -1);
    assert_contains(pr.err, "no Content-Type");
    parsed_cleanup(&pr);
}

static void test_multipart_truncated_body(void **state)
{
    size_t cut = (size_t)(strstr(CURL_BODY, "hello") - CURL_BODY) + 3;

    (void)state;
    expect_error_n(CURL_CT, CURL_BODY, cut, "no closing boundary");
    expect_error_n(CURL_CT, CURL_BODY, 60, "body ends inside the headers of part 1");
    expect_error_n(CURL_CT, CURL_BODY, 10, "does not contain the boundary");
    expect_error_n(CURL_CT, CURL_BODY, 0, "does not contain the boundary");
}

static void test_multipart_no_closing_boundary(void **state)
{
    (void)state;
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n",
                 "no closing boundary: the body ends inside part 1");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n--B\r\n",
                 "no closing boundary: the body ends inside the headers of part 2");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n--B",
                 "no closing boundary: the body ends on a boundary line");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nxyz\r\n--B-",
                 "no closing boundary");
}

static void test_multipart_header_without_colon(void **state)
{
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\nX-Foo bar\r\n\r\n--B--");
    assert_int_equal(pr.rc, -1);
    assert_string_equal(pr.err, "part 1 header line 2 has no colon");
    parsed_cleanup(&pr);
}

static void test_multipart_header_errors(void **state)
{
    static const char nul_in_header[] =
        "--B\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\n\r\n--B--";

    (void)state;
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n"
                 "--B\r\nContent-Type: text/plain\r\n\r\ny\r\n--B--",
                 "part 2 has no Content-Disposition");
    expect_error(CT_B, "--B\r\n\r\ny\r\n--B--", "part 1 has no Content-Disposition");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\n\r\n--B--",
                 "folded");
    expect_error(CT_B, "--B\r\nBad Name: 1\r\n\r\n\r\n--B--", "invalid header name");
    expect_error(CT_B, "--B\r\n: 1\r\n\r\n\r\n--B--", "invalid header name");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\rX\r\n\r\n\r\n--B--",
                 "control character");
    expect_error_n(CT_B, nul_in_header, sizeof nul_in_header - 1,
                   "part 1 header line 1 contains a control character");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a\r\n"
                 "content-disposition: form-data; name=b\r\n\r\n\r\n--B--",
                 "more than one Content-Disposition");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a\r\n"
                 "Content-Type: a/b\r\ncontent-type: c/d\r\n\r\n\r\n--B--",
                 "more than one Content-Type");
}

static void test_multipart_disposition_errors(void **state)
{
    (void)state;
    expect_error(CT_B, "--B\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--B--",
                 "part 1 Content-Disposition is not form-data");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; filename=a\r\n\r\n\r\n--B--",
                 "part 1 Content-Disposition has no name parameter");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n\r\n--B--",
                 "empty name");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n\r\n--B--",
                 "more than one name");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\n\r\n--B--",
                 "closing quote");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\n\r\n--B--",
                 "not preceded by ';'");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name\r\n\r\n\r\n--B--", "no '='");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a; filelength=-1\r\n\r\n\r\n--B--",
                 "filelength is not a non-negative integer");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a; filelength=6x\r\n\r\n\r\n--B--",
                 "filelength is not a non-negative integer");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a; filelength=\"\"\r\n\r\n\r\n--B--",
                 "filelength is not a non-negative integer");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a; "
                 "filelength=9223372036854775808\r\n\r\n\r\n--B--",
                 "filelength is not a non-negative integer");
    expect_error(CT_B,
                 "--B\r\nContent-Disposition: form-data; name=a; filelength=1; "
                 "filelength=1\r\n\r\n\r\n--B--",
                 "more than one filelength");
}

static void test_multipart_parameter_forms(void **state)
{
    static const char body[] =
        "--B\r\n"
        "CONTENT-DISPOSITION:Form-Data;NAME=media ; filename=\"a\\\"b\\\\c.txt\";"
        "filename*=UTF-8''x.txt;FileLength=\"9223372036854775807\"  \r\n"
        "content-type:   text/plain; charset=utf-8  \r\n"
        "X-Other: ignored\r\n"
        "\r\n"
        "q\r\n"
        "--B\r\n"
        "Content-Disposition: form-data; name=\"win\"; filename=\"C:\\dir\\f.txt\";\r\n"
        "\r\n"
        "\r\n"
        "--B--";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, CT_B, body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 2);
    assert_string_equal(pr.r.parts[0].name, "media");
    assert_string_equal(pr.r.parts[0].filename, "a\"b\\c.txt");
    assert_string_equal(pr.r.parts[0].content_type, "text/plain; charset=utf-8");
    assert_true(pr.r.parts[0].filelength == 9223372036854775807LL);
    assert_data(&pr.r.parts[0], "q", 1);
    assert_string_equal(pr.r.parts[1].filename, "C:\\dir\\f.txt");
    parsed_cleanup(&pr);
}

static void test_multipart_bare_lf(void **state)
{
    static const char body[] = "--B\n"
                               "Content-Disposition: form-data; name=media; filelength=2\n"
                               "Content-Type: text/plain\n"
                               "\n"
                               "ab\n"
                               "--B\n"
                               "Content-Disposition: form-data; name=empty\n"
                               "\n"
                               "\n"
                               "--B--\n";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, CT_B, body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 2);
    assert_string_equal(pr.r.parts[0].content_type, "text/plain");
    assert_data(&pr.r.parts[0], "ab", 2);
    assert_data(&pr.r.parts[1], "", 0);
    parsed_cleanup(&pr);
}

static void test_multipart_empty_part(void **state)
{
    static const char body[] = "--B\r\n"
                               "Content-Disposition: form-data; name=\"media\"; filename=\"e\"; "
                               "filelength=0\r\n"
                               "\r\n"
                               "\r\n"
                               "--B--\r\n";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, CT_B, body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 1);
    assert_int_equal(pr.r.parts[0].len, 0);
    assert_int_equal(pr.r.parts[0].filelength, 0);
    assert_non_null(pr.r.parts[0].data);
    assert_ptr_equal(pr.r.parts[0].data, pr.body + sizeof body - 1 - 9);
    parsed_cleanup(&pr);
}

static void test_multipart_large_part(void **state)
{
    static const char head[] = "--B\r\n"
                               "Content-Disposition: form-data; name=media; filename=big; "
                               "filelength=1572864\r\n"
                               "\r\n";
    static const char tail[] = "\r\n--B--\r\n";
    static const char pattern[] = "\r\n--A\0-\n\r";
    size_t n = 1536 * 1024, hl = sizeof head - 1, tl = sizeof tail - 1, i;
    char *body = malloc(hl + n + tl), *data;
    parsed pr;

    (void)state;
    assert_non_null(body);
    data = body + hl;
    memcpy(body, head, hl);
    for (i = 0; i < n; i++)
        data[i] = pattern[i % (sizeof pattern - 1)] ^ (char)((i / 4096) & 0x10);
    memcpy(data + n, tail, tl);
    parse_bytes(&pr, CT_B, body, hl + n + tl);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.parts[0].filelength, (long long)n);
    assert_data(&pr.r.parts[0], data, n);
    parsed_cleanup(&pr);
    free(body);
}

static void test_multipart_preamble_epilogue(void **state)
{
    static const char body[] = "This is the preamble. --B is not a boundary here.\r\n"
                               "--B\r\n"
                               "Content-Disposition: form-data; name=media\r\n"
                               "\r\n"
                               "v\r\n"
                               "--B--  \r\n"
                               "epilogue\r\n--B\r\ngarbage without headers";
    parsed pr;

    (void)state;
    PARSE_LIT(&pr, CT_B, body);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, 1);
    assert_data(&pr.r.parts[0], "v", 1);
    parsed_cleanup(&pr);
}

static void test_multipart_framing_errors(void **state)
{
    (void)state;
    expect_error(CT_B, "--B--\r\n", "body has no parts");
    expect_error(CT_B, "no boundary here", "does not contain the boundary");
    expect_error(CT_B, "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--Bx\r\n--B--",
                 "text after the boundary");
    expect_error(CT_B, "--BB\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--",
                 "text after the boundary");
    /* Transport padding after a boundary is allowed. */
    {
        parsed pr;

        PARSE_LIT(&pr, CT_B, "--B \t\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--");
        assert_int_equal(pr.rc, 0);
        assert_data(&pr.r.parts[0], "x", 1);
        parsed_cleanup(&pr);
    }
}

/* A body of count parts named p0, p1, ...; returned owned, free with free(). */
static char *many_parts(size_t count, size_t *len)
{
    size_t cap = count * 80 + 16, used = 0, i;
    char *b = malloc(cap);

    assert_non_null(b);
    for (i = 0; i < count; i++)
        used += (size_t)snprintf(b + used, cap - used,
                                 "--B\r\nContent-Disposition: form-data; name=p%zu\r\n\r\n%zu\r\n",
                                 i, i);
    used += (size_t)snprintf(b + used, cap - used, "--B--");
    *len = used;
    return b;
}

static void test_multipart_part_limit(void **state)
{
    size_t len;
    char *b;
    parsed pr;

    (void)state;
    b = many_parts(ZL_MP_MAX_PARTS, &len);
    parse_bytes(&pr, CT_B, b, len);
    assert_int_equal(pr.rc, 0);
    assert_int_equal(pr.r.count, ZL_MP_MAX_PARTS);
    assert_string_equal(pr.r.parts[63].name, "p63");
    assert_data(&pr.r.parts[63], "63", 2);
    assert_ptr_equal(zl_mp_find(&pr.r, "p40"), &pr.r.parts[40]);
    parsed_cleanup(&pr);
    free(b);

    b = many_parts(ZL_MP_MAX_PARTS + 1, &len);
    expect_error_n(CT_B, b, len, "more than 64 parts");
    free(b);
}

static void test_multipart_header_block_limit(void **state)
{
    static const char cd[] = "--B\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ";
    size_t cdl = sizeof cd - 1, pad, len;
    char *b = malloc(ZL_MP_MAX_HEADER_BYTES + 64);
    parsed pr;

    (void)state;
    assert_non_null(b);
    /* Header block (from after "--B\r\n" to the end of the blank line) of exactly 8192 bytes. */
    pad = ZL_MP_MAX_HEADER_BYTES - (cdl - 5) - 4;
    memcpy(b, cd, cdl);
    memset(b + cdl, 'p', pad);
    memcpy(b + cdl + pad, "\r\n\r\nd\r\n--B--", 12);
    len = cdl + pad + 12;
    parse_bytes(&pr, CT_B, b, len);
    assert_int_equal(pr.rc, 0);
    assert_data(&pr.r.parts[0], "d", 1);
    parsed_cleanup(&pr);

    memset(b + cdl, 'p', pad + 1);
    memcpy(b + cdl + pad + 1, "\r\n\r\nd\r\n--B--", 12);
    expect_error_n(CT_B, b, len + 1, "part 1 header block is longer than 8192 bytes");
    free(b);
}

static void test_multipart_error_buffers(void **state)
{
    zl_mp_result r;
    char small[8];

    (void)state;
    assert_int_equal(zl_mp_parse("text/plain", "", 0, &r, small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(zl_mp_parse("text/plain", NULL, 0, &r, NULL, 0), -1);
    assert_null(r.parts);
    assert_int_equal(zl_mp_parse(CT_B, NULL, 0, &r, small, 0), -1);
    zl_mp_free(&r);
    zl_mp_free(&r);
    zl_mp_free(NULL);
    assert_null(zl_mp_find(NULL, "media"));
    assert_null(zl_mp_find(&r, "media"));
}

/* The two-part body cut at every length: only cuts after the closing boundary may succeed. */
static void test_multipart_every_truncation(void **state)
{
    static const char body[] = "preamble\r\n--B\r\n"
                               "Content-Disposition: form-data; name=\"type\"\r\n"
                               "\r\n"
                               "file\r\n"
                               "--B\r\n"
                               "Content-Disposition: form-data; name=\"media\";"
                               "filename=\"wework.txt\"; filelength=6\r\n"
                               "Content-Type: application/octet-stream\r\n"
                               "\r\n"
                               "my\0t\rxt\r\n"
                               "--B--\r\nepilogue";
    size_t full = sizeof body - 1, closed = full - strlen("\r\nepilogue"), n;
    parsed pr;

    (void)state;
    for (n = 0; n <= full; n++) {
        parse_bytes(&pr, CT_B, body, n);
        if (pr.rc != (n >= closed ? 0 : -1))
            fail_msg("cut at %zu of %zu: rc %d (%s)", n, full, pr.rc, pr.err);
        if (pr.rc == 0) {
            assert_int_equal(pr.r.count, 2);
            assert_data(&pr.r.parts[1], "my\0t\rxt", 7);
        }
        parsed_cleanup(&pr);
    }
}

/* Every byte of a valid body replaced by each byte that matters to the grammar: never a crash,
 * never an overread, always 0 or -1. */
static void test_multipart_every_mutation(void **state)
{
    static const char repl[] = "\r\n-\";:= \\B\0\x7f\xff";
    char body[sizeof WECOM_BODY];
    size_t i, j, ok = 0;
    parsed pr;

    (void)state;
    for (i = 0; i < sizeof WECOM_BODY - 1; i++) {
        for (j = 0; j < sizeof repl - 1; j++) {
            memcpy(body, WECOM_BODY, sizeof body);
            body[i] = repl[j];
            parse_bytes(&pr, WECOM_CT, body, sizeof body - 1);
            ok += pr.rc == 0;
            parsed_cleanup(&pr);
        }
    }
    /* Mutations inside the data or the filename keep the body valid. */
    assert_true(ok > 6 * (sizeof repl - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_curl_body),
        cmocka_unit_test(test_multipart_wecom_doc_example),
        cmocka_unit_test(test_multipart_binary_data),
        cmocka_unit_test(test_multipart_two_parts),
        cmocka_unit_test(test_multipart_quoted_boundary),
        cmocka_unit_test(test_multipart_boundary_limits),
        cmocka_unit_test(test_multipart_missing_boundary_param),
        cmocka_unit_test(test_multipart_wrong_content_type),
        cmocka_unit_test(test_multipart_truncated_body),
        cmocka_unit_test(test_multipart_no_closing_boundary),
        cmocka_unit_test(test_multipart_header_without_colon),
        cmocka_unit_test(test_multipart_header_errors),
        cmocka_unit_test(test_multipart_disposition_errors),
        cmocka_unit_test(test_multipart_parameter_forms),
        cmocka_unit_test(test_multipart_bare_lf),
        cmocka_unit_test(test_multipart_empty_part),
        cmocka_unit_test(test_multipart_large_part),
        cmocka_unit_test(test_multipart_preamble_epilogue),
        cmocka_unit_test(test_multipart_framing_errors),
        cmocka_unit_test(test_multipart_part_limit),
        cmocka_unit_test(test_multipart_header_block_limit),
        cmocka_unit_test(test_multipart_error_buffers),
        cmocka_unit_test(test_multipart_every_truncation),
        cmocka_unit_test(test_multipart_every_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
