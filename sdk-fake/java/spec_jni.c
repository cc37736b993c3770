/* spec_jni.c: libWeWorkSpecSDK.so, the JNI side of the fake Java SDK (com.tencent.wework's
 * SpecSDK, SpecCallbackSDK, SpecUtil) over libzonesdk's C API (zone_sdk.h). */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "com_tencent_wework_SpecCallbackSDK.h"
#include "com_tencent_wework_SpecSDK.h"
#include "com_tencent_wework_SpecUtil.h"
#include "zone_sdk.h"

#define MAX_HEADERS 256 /* a request with more is refused as having none (-20002) */

/* Classes and members looked up once in JNI_OnLoad; global references. */
static struct {
    jclass string, map, entry, hashmap;
    jmethodID string_get_bytes, string_new, map_entry_set, map_put, set_to_array, entry_key,
        entry_value, hashmap_new;
    jstring utf8;
    jfieldID sdk_response, cb_headers, cb_body;
} J;

/* Per thread: the req_id of the last request this thread made a SpecCallbackSDK for, so a log
 * line with another req_id (WWSpecLogInfoWithReqId) can put it back. */
static _Thread_local char thread_req_id[17];

static jclass global_class(JNIEnv *env, const char *name)
{
    jclass c = (*env)->FindClass(env, name), g;

    if (!c)
        return NULL;
    g = (*env)->NewGlobalRef(env, c);
    (*env)->DeleteLocalRef(env, c);
    return g;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    JNIEnv *env;
    jclass sdk, cb;
    jstring u;

    (void)reserved;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return JNI_ERR;
    if (!(J.string = global_class(env, "java/lang/String")) ||
        !(J.map = global_class(env, "java/util/Map")) ||
        !(J.entry = global_class(env, "java/util/Map$Entry")) ||
        !(J.hashmap = global_class(env, "java/util/HashMap")))
        return JNI_ERR;
    J.string_get_bytes = (*env)->GetMethodID(env, J.string, "getBytes", "(Ljava/lang/String;)[B");
    J.string_new = (*env)->GetMethodID(env, J.string, "<init>", "([BLjava/lang/String;)V");
    J.map_entry_set = (*env)->GetMethodID(env, J.map, "entrySet", "()Ljava/util/Set;");
    J.map_put = (*env)->GetMethodID(env, J.map, "put",
                                    "(Ljava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
    J.entry_key = (*env)->GetMethodID(env, J.entry, "getKey", "()Ljava/lang/Object;");
    J.entry_value = (*env)->GetMethodID(env, J.entry, "getValue", "()Ljava/lang/Object;");
    J.hashmap_new = (*env)->GetMethodID(env, J.hashmap, "<init>", "()V");
    {
        jclass set = (*env)->FindClass(env, "java/util/Set");

        if (!set)
            return JNI_ERR;
        J.set_to_array = (*env)->GetMethodID(env, set, "toArray", "()[Ljava/lang/Object;");
        (*env)->DeleteLocalRef(env, set);
    }
    if (!(u = (*env)->NewStringUTF(env, "UTF-8")) || !(J.utf8 = (*env)->NewGlobalRef(env, u)))
        return JNI_ERR;
    (*env)->DeleteLocalRef(env, u);
    /* The vendor's member names: read and written here by reflection, never renamed. */
    if (!(sdk = (*env)->FindClass(env, "com/tencent/wework/SpecSDK")))
        return JNI_ERR;
    J.sdk_response = (*env)->GetFieldID(env, sdk, "response", "Ljava/lang/String;");
    (*env)->DeleteLocalRef(env, sdk);
    if (!(cb = (*env)->FindClass(env, "com/tencent/wework/SpecCallbackSDK")))
        return JNI_ERR;
    J.cb_headers = (*env)->GetFieldID(env, cb, "responseHeaders", "Ljava/util/Map;");
    J.cb_body = (*env)->GetFieldID(env, cb, "responseBody", "Ljava/lang/String;");
    (*env)->DeleteLocalRef(env, cb);
    if (!J.string_get_bytes || !J.string_new || !J.map_entry_set || !J.map_put || !J.set_to_array ||
        !J.entry_key || !J.entry_value || !J.hashmap_new || !J.sdk_response || !J.cb_headers ||
        !J.cb_body)
        return JNI_ERR;
    return JNI_VERSION_1_8;
}

/*
 * The UTF-8 bytes of s (real UTF-8, not JNI's modified UTF-8: events carry emoji), NUL
 * terminated, length in *len (may be NULL). Returns NULL for a null s or on failure (a Java
 * exception may then be pending). Owned: free().
 */
static char *utf8_from(JNIEnv *env, jstring s, size_t *len)
{
    jbyteArray b;
    jsize n;
    char *out;

    if (len)
        *len = 0;
    if (!s)
        return NULL;
    b = (*env)->CallObjectMethod(env, s, J.string_get_bytes, J.utf8);
    if (!b || (*env)->ExceptionCheck(env))
        return NULL;
    n = (*env)->GetArrayLength(env, b);
    if ((out = malloc((size_t)n + 1))) {
        (*env)->GetByteArrayRegion(env, b, 0, n, (jbyte *)out);
        out[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    (*env)->DeleteLocalRef(env, b);
    return out;
}

/* A Java String of the n UTF-8 bytes at s (NULL: ""); NULL with an exception pending on failure. */
static jstring string_of(JNIEnv *env, const char *s, size_t n)
{
    jbyteArray b;
    jstring out;

    if (!s)
        n = 0;
    if (n > (size_t)INT32_MAX)
        return NULL;
    if (!(b = (*env)->NewByteArray(env, (jsize)n)))
        return NULL;
    if (n)
        (*env)->SetByteArrayRegion(env, b, 0, (jsize)n, (const jbyte *)s);
    out = (*env)->NewObject(env, J.string, J.string_new, b, J.utf8);
    (*env)->DeleteLocalRef(env, b);
    return out;
}

static jstring string_of0(JNIEnv *env, const char *s)
{
    return string_of(env, s, s ? strlen(s) : 0);
}

static zone_callback *cb_of(jlong p)
{
    return (zone_callback *)(intptr_t)p;
}

static zone_sdk *sdk_of(jlong p)
{
    return (zone_sdk *)(intptr_t)p;
}

/* ---- SpecCallbackSDK ------------------------------------------------------------------------ */

/* A header as copied out of the Java map: both owned. */
typedef struct owned_header {
    char *name, *value;
} owned_header;

/* Copies the entries of a Map<String,String> into *out (free with free_headers); entries whose
 * key or value is not a String are left out, and a map of more than MAX_HEADERS entries is read
 * as empty. 0, or -1 on failure. */
static int read_headers(JNIEnv *env, jobject map, owned_header **out, size_t *n)
{
    jobject set;
    jobjectArray arr;
    jsize count, i;
    owned_header *h;

    *out = NULL;
    *n = 0;
    set = (*env)->CallObjectMethod(env, map, J.map_entry_set);
    if (!set || (*env)->ExceptionCheck(env))
        return -1;
    arr = (*env)->CallObjectMethod(env, set, J.set_to_array);
    (*env)->DeleteLocalRef(env, set);
    if (!arr || (*env)->ExceptionCheck(env))
        return -1;
    count = (*env)->GetArrayLength(env, arr);
    if (count > MAX_HEADERS)
        count = 0;
    if (!(h = calloc(count ? (size_t)count : 1, sizeof *h))) {
        (*env)->DeleteLocalRef(env, arr);
        return -1;
    }
    *out = h;
    for (i = 0; i < count; i++) {
        jobject e = (*env)->GetObjectArrayElement(env, arr, i);
        jobject k = e ? (*env)->CallObjectMethod(env, e, J.entry_key) : NULL;
        jobject v = e ? (*env)->CallObjectMethod(env, e, J.entry_value) : NULL;

        if ((*env)->ExceptionCheck(env))
            break;
        if (k && v && (*env)->IsInstanceOf(env, k, J.string) &&
            (*env)->IsInstanceOf(env, v, J.string)) {
            h[*n].name = utf8_from(env, k, NULL);
            h[*n].value = utf8_from(env, v, NULL);
            (*n)++; /* counted even when a copy failed, so free_headers frees it */
        }
        if (k)
            (*env)->DeleteLocalRef(env, k);
        if (v)
            (*env)->DeleteLocalRef(env, v);
        if (e)
            (*env)->DeleteLocalRef(env, e);
    }
    (*env)->DeleteLocalRef(env, arr);
    for (i = 0; (size_t)i < *n; i++)
        if (!h[i].name || !h[i].value)
            return -1;
    return (*env)->ExceptionCheck(env) ? -1 : 0;
}

static void free_headers(owned_header *h, size_t n)
{
    size_t i;

    for (i = 0; h && i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

/*
 * The handle of a verified (or refused) request: 0 only when memory ran out. A null method,
 * headers map (or an empty one) or body is refused with -20001, -20002, -20003, which the
 * exception reply carries in ww-exception.
 */
JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecCallbackSDK_NewCallbackSDK(
    JNIEnv *env, jobject self, jstring method, jobject headers, jstring body)
{
    owned_header *h = NULL;
    zone_header *view = NULL;
    size_t n = 0, body_len = 0, i;
    char *m = utf8_from(env, method, NULL), *b = NULL;
    zone_callback *cb = NULL;

    (void)self;
    if ((*env)->ExceptionCheck(env))
        goto out;
    if (headers && read_headers(env, headers, &h, &n) != 0)
        goto out;
    b = utf8_from(env, body, &body_len);
    if ((*env)->ExceptionCheck(env))
        goto out;
    if (n && !(view = calloc(n, sizeof *view)))
        goto out;
    for (i = 0; i < n; i++) {
        view[i].name = h[i].name;
        view[i].value = h[i].value;
    }
    cb = zone_callback_new(m, headers ? view : NULL, n, b, body_len);
    if (cb)
        memcpy(thread_req_id, zone_callback_req_id(cb), sizeof thread_req_id - 1);
out:
    free(m);
    free(b);
    free(view);
    free_headers(h, n);
    return (jlong)(intptr_t)cb;
}

JNIEXPORT void JNICALL Java_com_tencent_wework_SpecCallbackSDK_DeleteCallbackSDK(JNIEnv *env,
                                                                                 jclass cls,
                                                                                 jlong p)
{
    (void)cls, (void)env;
    zone_callback_free(cb_of(p));
}

JNIEXPORT jboolean JNICALL Java_com_tencent_wework_SpecCallbackSDK_IsOk(JNIEnv *env, jobject self,
                                                                        jlong p)
{
    (void)env, (void)self;
    return cb_of(p) && zone_callback_ok(cb_of(p)) ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetCorpId(JNIEnv *env,
                                                                            jobject self, jlong p)
{
    (void)self;
    return string_of0(env, cb_of(p) ? zone_callback_corpid(cb_of(p)) : "");
}

JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetAgentId(JNIEnv *env,
                                                                           jobject self, jlong p)
{
    (void)env, (void)self;
    return cb_of(p) ? (jlong)zone_callback_agentid(cb_of(p)) : 0;
}

JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetCallType(JNIEnv *env,
                                                                            jobject self, jlong p)
{
    (void)env, (void)self;
    return cb_of(p) ? (jlong)zone_callback_call_type(cb_of(p)) : 0;
}

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetData(JNIEnv *env, jobject self,
                                                                          jlong p)
{
    (void)self;
    return string_of0(env, cb_of(p) ? zone_callback_data(cb_of(p)) : "");
}

JNIEXPORT jboolean JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetIsAsync(JNIEnv *env,
                                                                              jobject self, jlong p)
{
    (void)env, (void)self;
    return cb_of(p) && zone_callback_is_async(cb_of(p)) ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetJobInfo(JNIEnv *env,
                                                                             jobject self, jlong p)
{
    (void)self;
    return string_of0(env, cb_of(p) ? zone_callback_job_info(cb_of(p)) : "");
}

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetAbilityId(JNIEnv *env,
                                                                               jobject self,
                                                                               jlong p)
{
    (void)self;
    return string_of0(env, cb_of(p) ? zone_callback_ability_id(cb_of(p)) : "");
}

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecCallbackSDK_GetNotifyId(JNIEnv *env,
                                                                              jobject self, jlong p)
{
    (void)self;
    return string_of0(env, cb_of(p) ? zone_callback_notify_id(cb_of(p)) : "");
}

/* Fills the members responseHeaders (a Map, made when null) and responseBody. On failure both
 * stay empty and the SDK has logged why. */
JNIEXPORT void JNICALL Java_com_tencent_wework_SpecCallbackSDK_BuildResponseHeaderBody(
    JNIEnv *env, jobject self, jlong p, jstring response)
{
    size_t len = 0, i;
    char *rsp = utf8_from(env, response, &len);
    zone_reply *r = NULL;
    jobject map;
    jstring body;

    if ((*env)->ExceptionCheck(env) || !cb_of(p))
        goto out;
    if (zone_callback_build_reply(cb_of(p), rsp ? rsp : "", len, &r, NULL, 0) != ZONE_OK)
        goto out;
    map = (*env)->GetObjectField(env, self, J.cb_headers);
    if (!map) {
        if (!(map = (*env)->NewObject(env, J.hashmap, J.hashmap_new)))
            goto out;
        (*env)->SetObjectField(env, self, J.cb_headers, map);
    }
    for (i = 0; i < r->n_headers; i++) {
        jstring k = string_of0(env, r->headers[i].name), v = string_of0(env, r->headers[i].value);
        jobject old;

        if (!k || !v)
            goto out;
        old = (*env)->CallObjectMethod(env, map, J.map_put, k, v);
        if ((*env)->ExceptionCheck(env))
            goto out;
        if (old)
            (*env)->DeleteLocalRef(env, old);
        (*env)->DeleteLocalRef(env, k);
        (*env)->DeleteLocalRef(env, v);
    }
    if ((body = string_of(env, r->body, r->body_len)))
        (*env)->SetObjectField(env, self, J.cb_body, body);
out:
    zone_reply_free(r);
    free(rsp);
}

/* ---- SpecSDK ------------------------------------------------------------------------------- */

static jlong new_sdk(JNIEnv *env, jstring corp, jlong agent, jstring ability, jstring job)
{
    char *c = utf8_from(env, corp, NULL), *a = NULL, *j = NULL;
    zone_sdk *s = NULL;

    if ((*env)->ExceptionCheck(env))
        goto out;
    a = utf8_from(env, ability, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    j = utf8_from(env, job, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    /* agentids are uint32; the vendor's Java passes a long */
    s = zone_sdk_new(c ? c : "", (uint32_t)agent, a ? a : "", j ? j : "");
out:
    free(c);
    free(a);
    free(j);
    return (jlong)(intptr_t)s;
}

JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecSDK_NewSDK1(JNIEnv *env, jobject self,
                                                                jstring corp, jlong agent)
{
    (void)self;
    return new_sdk(env, corp, agent, NULL, NULL);
}

JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecSDK_NewSDK2(JNIEnv *env, jobject self,
                                                                jstring corp, jlong agent,
                                                                jstring ability)
{
    (void)self;
    return new_sdk(env, corp, agent, ability, NULL);
}

JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecSDK_NewSDK3(JNIEnv *env, jobject self,
                                                                jstring corp, jlong agent,
                                                                jstring ability, jstring job)
{
    (void)self;
    return new_sdk(env, corp, agent, ability, job);
}

/* From a SpecCallbackSDK's handle; one that did not verify makes a handle whose invokes fail
 * with -10001, as with zone_sdk_new_from_callback. */
JNIEXPORT jlong JNICALL Java_com_tencent_wework_SpecSDK_NewSDK4(JNIEnv *env, jobject self, jlong cb)
{
    (void)env, (void)self;
    if (!cb_of(cb)) {
        ZONE_LOG_ERROR("new SpecSDK(callbackSDK): the SpecCallbackSDK has no native handle");
        return 0;
    }
    return (jlong)(intptr_t)zone_sdk_new_from_callback(cb_of(cb));
}

JNIEXPORT void JNICALL Java_com_tencent_wework_SpecSDK_DeleteSDK(JNIEnv *env, jclass cls, jlong p)
{
    (void)cls, (void)env;
    zone_sdk_free(sdk_of(p));
}

/* Sets the member response to the reply ("" on failure) and returns the vendor code. */
JNIEXPORT jint JNICALL Java_com_tencent_wework_SpecSDK_Invoke(JNIEnv *env, jobject self, jlong p,
                                                              jstring api, jstring request)
{
    char *a = utf8_from(env, api, NULL), *req = NULL, *rsp = NULL, err[ZONE_ERRBUF_SIZE] = "";
    int rc = ZONE_ERR_INTERNAL;
    jstring out;

    if ((*env)->ExceptionCheck(env))
        goto out;
    req = utf8_from(env, request, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    if (!sdk_of(p)) {
        ZONE_LOG_ERROR("Invoke %s: the SpecSDK has no native handle", a ? a : "");
    } else if (!a || !*a) {
        rc = ZONE_ERR_UNSUPPORTED_API;
        ZONE_LOG_ERROR("Invoke: no API name");
    } else if (!req) {
        ZONE_LOG_ERROR("Invoke %s: no request: call SetRequest first", a);
    } else {
        /* the SDK logs its own failures (ERR) with err */
        rc = zone_sdk_invoke(sdk_of(p), a, req, &rsp, err, sizeof err);
    }
    out = string_of0(env, rc == ZONE_OK ? rsp : "");
    if (out)
        (*env)->SetObjectField(env, self, J.sdk_response, out);
out:
    zone_string_free(rsp);
    free(a);
    free(req);
    return rc;
}

/* ---- SpecUtil ------------------------------------------------------------------------------ */

JNIEXPORT jstring JNICALL Java_com_tencent_wework_SpecUtil_GenerateNotifyId(JNIEnv *env, jclass cls)
{
    char *id = zone_generate_notify_id();
    jstring out = string_of0(env, id ? id : "");

    (void)cls;
    zone_string_free(id);
    return out;
}

JNIEXPORT jboolean JNICALL Java_com_tencent_wework_SpecUtil_OpenDebugMode(JNIEnv *env, jclass cls,
                                                                          jstring debug_token,
                                                                          jstring access_token)
{
    char *d = utf8_from(env, debug_token, NULL), *a = NULL, err[ZONE_ERRBUF_SIZE] = "";
    int ok = 0;

    (void)cls;
    if ((*env)->ExceptionCheck(env))
        goto out;
    a = utf8_from(env, access_token, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    ok = zone_open_debug_mode(d ? d : "", a ? a : "", err, sizeof err);
    if (!ok)
        ZONE_LOG_ERROR("OpenDebugMode: %s", err);
out:
    free(d);
    free(a);
    return ok ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void JNICALL Java_com_tencent_wework_SpecUtil_SpecLogNative(JNIEnv *env, jclass cls,
                                                                      jint level, jstring req_id,
                                                                      jstring file, jint line,
                                                                      jstring content)
{
    char *r = utf8_from(env, req_id, NULL), *f = NULL, *c = NULL;

    (void)cls;
    if ((*env)->ExceptionCheck(env))
        goto out;
    f = utf8_from(env, file, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    c = utf8_from(env, content, NULL);
    if ((*env)->ExceptionCheck(env))
        goto out;
    if (level < ZONE_LOG_LEVEL_ERR || level > ZONE_LOG_LEVEL_DBG)
        level = ZONE_LOG_LEVEL_INFO;
    if (r)
        zone_log_set_req_id(r);
    zone_log_write(level, f ? f : "?", line, "%s", c ? c : "");
    if (r)
        zone_log_set_req_id(thread_req_id[0] ? thread_req_id : NULL);
out:
    free(r);
    free(f);
    free(c);
}
