"""wwspecapisdk: zonelab's fake of the vendor's Python zone SDK (wwspecapisdk.so).

Pure Python over libzonesdk (zone_sdk.h) through ctypes, with the vendor's names
(spec program-side.md sections 3, 4, 6, 7):

    from wwspecapisdk import WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor, \\
        ChatDataSDK, spec_log_info, spec_log_error, spec_log_debug, \\
        spec_open_debug_mode, spec_gen_notify_id

The library is $ZONESDK_LIBRARY when set (a path), else libzonesdk.so.0 (then
libzonesdk.so) found by the dynamic loader (LD_LIBRARY_PATH, the installed lib
folder). The SDK's configuration is libzonesdk's: ZONELAB_URL, ZONELAB_SECRET,
ZONELAB_SECRET_VER, ZONELAB_INSTANCE, ... (docs/sdk.md).

Failures raise WWSpecSDKError (a subclass of Exception) with .code, the vendor's
code (-10001 ... -10009, -20001 ... -20003; docs/sdk.md "Return codes"), and
.errmsg, libzonesdk's sentence. The vendor documents only that its Python SDK
raises; the class name and its attributes are zonelab's.
"""

import ctypes
import os
import sys
import threading

__all__ = [
    "WWToSpecHTTPReqDecoder",
    "WWToSpecHTTPRspConstructor",
    "ChatDataSDK",
    "WWSpecSDKError",
    "spec_log_info",
    "spec_log_error",
    "spec_log_debug",
    "spec_gen_notify_id",
    "spec_open_debug_mode",
    "API_NAMES",
]

__version__ = "0.1.0"

# The SDK API names libzonesdk accepts (sdk-fake/src/api_names.c, spec sdk-api.md section 2);
# tests/python checks that the two lists agree. ChatDataSDK has one method per name.
API_NAMES = (
    "create_chatdata_export_job",
    "create_customer_tag_task",
    "create_model_task",
    "create_private_task",
    "create_program_task",
    "create_recommend_dialog_task",
    "create_rule",
    "create_sentiment_task",
    "create_spam_task",
    "create_summary_task",
    "create_ww_model_task",
    "delete_rule",
    "document_list",
    "get_agree_status_room",
    "get_agree_status_single",
    "get_chatdata_export_job_status",
    "get_customer_tag_result",
    "get_group_chat",
    "get_hide_sensitiveinfo_config",
    "get_hit_msg_list",
    "get_model_task_result",
    "get_msg_list_by_page_id",
    "get_private_task_result",
    "get_program_task_result",
    "get_recommend_dialog_result",
    "get_rule_detail",
    "get_rule_list",
    "get_sentiment_result",
    "get_spam_result",
    "get_summary_result",
    "get_ww_model_result",
    "knowledge_base_add_doc",
    "knowledge_base_create",
    "knowledge_base_delete",
    "knowledge_base_detail",
    "knowledge_base_list",
    "knowledge_base_modify_name",
    "knowledge_base_remove_doc",
    "program_async_job_call_back",
    "search_chat",
    "search_contact_or_customer",
    "search_msg",
    "set_hide_sensitiveinfo_config",
    "spec_notify_app",
    "sync_msg",
    "update_rule",
)

_ERRBUF_SIZE = 256  # ZONE_ERRBUF_SIZE
_LOG_ERR, _LOG_INFO, _LOG_DBG = 1, 2, 3
_SONAMES = ("libzonesdk.so.0", "libzonesdk.so")


class WWSpecSDKError(Exception):
    """A failure of the SDK: code is the vendor's code, errmsg libzonesdk's sentence."""

    def __init__(self, code, errmsg):
        super().__init__("wwspecapisdk: code %d: %s" % (code, errmsg))
        self.code = code
        self.errmsg = errmsg


# ---- loading libzonesdk ---------------------------------------------------------------------


def _candidates():
    """The library path to load, or None to let the loader find a soname."""
    path = os.environ.get("ZONESDK_LIBRARY", "")
    if path:
        return path
    for folder in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        for name in _SONAMES:
            p = os.path.join(folder or ".", name)
            if os.path.isfile(p):
                return p
    return None


def _asan_check(path):
    """A sanitizer build of libzonesdk needs the ASan runtime loaded before python3 starts:
    dlopen would otherwise end the process with "ASan runtime does not come first". Raise an
    ImportError that says what to do instead."""
    try:
        with open(path, "rb") as f:
            needs_asan = b"libasan.so" in f.read()
    except OSError:
        return
    if not needs_asan:
        return
    try:
        with open("/proc/self/maps", "r") as f:
            if "libasan.so" in f.read():
                return
    except OSError:
        return
    raise ImportError(
        "wwspecapisdk: %s is a sanitizer (ASan) build; start python3 with the ASan runtime "
        "preloaded: LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 "
        "python3 ..., or point ZONESDK_LIBRARY at a build without -DZL_SANITIZE=ON" % path)


def _load():
    path = _candidates()
    if path:
        _asan_check(path)
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            raise ImportError("wwspecapisdk: cannot load libzonesdk from %s: %s "
                              "(ZONESDK_LIBRARY, LD_LIBRARY_PATH)" % (path, e)) from e
    last = None
    for name in _SONAMES:
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            last = e
    raise ImportError("wwspecapisdk: libzonesdk not found: set ZONESDK_LIBRARY to the path of "
                      "libzonesdk.so, or put its folder on LD_LIBRARY_PATH (%s)" % last)


_lib = _load()

_c = ctypes
_P = _c.c_void_p


class _Header(_c.Structure):
    _fields_ = [("name", _c.c_char_p), ("value", _c.c_char_p)]


class _Reply(_c.Structure):
    _fields_ = [("n_headers", _c.c_size_t), ("headers", _c.POINTER(_Header)),
                ("body", _c.c_void_p), ("body_len", _c.c_size_t)]


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_strerror = _fn("zone_strerror", _c.c_char_p, _c.c_int)
_string_free = _fn("zone_string_free", None, _P)
_cb_new = _fn("zone_callback_new", _P, _c.c_char_p, _c.POINTER(_Header), _c.c_size_t,
              _c.c_char_p, _c.c_size_t)
_cb_free = _fn("zone_callback_free", None, _P)
_cb_status = _fn("zone_callback_status", _c.c_int, _P)
_cb_error = _fn("zone_callback_error", _c.c_char_p, _P)
_cb_corpid = _fn("zone_callback_corpid", _c.c_char_p, _P)
_cb_agentid = _fn("zone_callback_agentid", _c.c_uint32, _P)
_cb_call_type = _fn("zone_callback_call_type", _c.c_uint32, _P)
_cb_data = _fn("zone_callback_data", _c.c_char_p, _P)
_cb_is_async = _fn("zone_callback_is_async", _c.c_int, _P)
_cb_job_info = _fn("zone_callback_job_info", _c.c_char_p, _P)
_cb_ability_id = _fn("zone_callback_ability_id", _c.c_char_p, _P)
_cb_notify_id = _fn("zone_callback_notify_id", _c.c_char_p, _P)
_cb_req_id = _fn("zone_callback_req_id", _c.c_char_p, _P)
_build_reply = _fn("zone_callback_build_reply", _c.c_int, _P, _c.c_char_p, _c.c_size_t,
                   _c.POINTER(_c.POINTER(_Reply)), _c.c_char_p, _c.c_size_t)
_reply_free = _fn("zone_reply_free", None, _c.POINTER(_Reply))
_sdk_new = _fn("zone_sdk_new", _P, _c.c_char_p, _c.c_uint32, _c.c_char_p, _c.c_char_p)
_sdk_free = _fn("zone_sdk_free", None, _P)
_sdk_invoke = _fn("zone_sdk_invoke", _c.c_int, _P, _c.c_char_p, _c.c_char_p,
                  _c.POINTER(_c.c_void_p), _c.c_char_p, _c.c_size_t)
_gen_notify_id = _fn("zone_generate_notify_id", _P)
_open_debug = _fn("zone_open_debug_mode", _c.c_int, _c.c_char_p, _c.c_char_p, _c.c_char_p,
                  _c.c_size_t)
_log_write = _lib.zone_log_write  # variadic: called as (int, char *, int, "%s", char *)
_log_write.restype = None


def _bytes(value, what):
    """str (UTF-8; surrogate escapes give back the bytes they stand for) or bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError("wwspecapisdk: %s must be str, not %s" % (what, type(value).__name__))


def _text(raw):
    return (raw or b"").decode("utf-8", "surrogateescape")


def _strerr(code):
    return _text(_strerror(code))


# ---- inbound: WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor ------------------------------

# The request this thread decoded last: WWToSpecHTTPRspConstructor(rsp) takes no decoder, so,
# as the vendor's class must, it builds the reply of the thread's current request.
_current = threading.local()


class _Callback:
    """Owns one zone_callback; freed when the last decoder or reply using it goes."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        if self.ptr and _cb_free is not None:
            _cb_free(self.ptr)
            self.ptr = None


class WWToSpecHTTPReqDecoder:
    """Verifies and decrypts one request: WWToSpecHTTPReqDecoder(headers, post_data).

    headers: the request's headers exactly as received, a list of (name, value) tuples
    (http.server: list(self.headers.items())); names are not normalised, so a re-cased
    ww-secret-ver fails as with the vendor SDK. post_data: the body, str (bytes accepted).
    Raises WWSpecSDKError when the request does not verify; the exception reply is then
    WWToSpecHTTPRspConstructor("").get_exception_header() on the same thread.
    """

    def __init__(self, headers, post_data):
        if isinstance(headers, (dict, str, bytes)):
            raise TypeError("wwspecapisdk: headers must be a list of (name, value) tuples, "
                            "e.g. list(self.headers.items())")
        pairs = []
        for h in headers:
            if not isinstance(h, (tuple, list)) or len(h) != 2:
                raise TypeError("wwspecapisdk: headers must be a list of (name, value) tuples")
            pairs.append((_bytes(h[0], "a header name"), _bytes(h[1], "a header value")))
        body = _bytes(post_data, "post_data")
        arr = (_Header * max(len(pairs), 1))()
        for i, (n, v) in enumerate(pairs):
            arr[i].name = n
            arr[i].value = v
        ptr = _cb_new(b"POST", arr, len(pairs), body, len(body))
        if not ptr:
            raise MemoryError("wwspecapisdk: out of memory decoding the request")
        self._cb = _Callback(ptr)
        _current.cb = self._cb
        code = _cb_status(ptr)
        if code != 0:
            raise WWSpecSDKError(code, _text(_cb_error(ptr)) or _strerr(code))

    def _p(self):
        return self._cb.ptr

    def get_corpid(self):
        return _text(_cb_corpid(self._p()))

    def get_agentid(self):
        return int(_cb_agentid(self._p()))

    def get_call_type(self):
        return int(_cb_call_type(self._p()))

    def get_data(self):
        return _text(_cb_data(self._p()))

    def get_is_async(self):
        return bool(_cb_is_async(self._p()))

    def get_job_info(self):
        return _text(_cb_job_info(self._p()))

    def get_ability_id(self):
        return _text(_cb_ability_id(self._p()))

    def get_notify_id(self):
        return _text(_cb_notify_id(self._p()))


class WWToSpecHTTPRspConstructor:
    """Builds the signed and encrypted reply carrying rsp_data (str) for the request this
    thread decoded last. Raises WWSpecSDKError when it cannot (no request decoded on this
    thread, bad configuration). After a request that did not verify this is the exception
    reply (ww-exception, ww-error), whatever rsp_data holds.
    """

    def __init__(self, rsp_data):
        data = _bytes(rsp_data, "rsp_data")
        cb = getattr(_current, "cb", None)
        if cb is None or not cb.ptr:
            raise WWSpecSDKError(-10001, "no request decoded on this thread: make a "
                                 "WWToSpecHTTPReqDecoder first, on the thread that replies")
        self._cb = cb
        self._ok = _cb_status(cb.ptr) == 0
        out = _c.POINTER(_Reply)()
        err = _c.create_string_buffer(_ERRBUF_SIZE)
        code = _build_reply(cb.ptr, data, len(data), _c.byref(out), err, _ERRBUF_SIZE)
        if code != 0:
            raise WWSpecSDKError(code, _text(err.value) or _strerr(code))
        try:
            r = out.contents
            self._headers = {_text(r.headers[i].name): _text(r.headers[i].value)
                             for i in range(r.n_headers)}
            self._body = _text(_c.string_at(r.body, r.body_len)) if r.body else ""
        finally:
            _reply_free(out)

    def get_normal_header(self):
        """The reply's headers (dict) after a request that verified."""
        if not self._ok:
            spec_log_error("get_normal_header on a request that did not verify: these are "
                           "the exception headers (use get_exception_header)")
        return dict(self._headers)

    def get_exception_header(self):
        """The exception reply's headers (dict) after WWToSpecHTTPReqDecoder raised."""
        if self._ok:
            spec_log_error("get_exception_header on a request that verified: these are the "
                           "normal headers (use get_normal_header)")
        return dict(self._headers)

    def get_encoded_body(self):
        """The reply's body (str)."""
        return self._body


# ---- outbound: ChatDataSDK -------------------------------------------------------------------


class _Sdk:
    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        if self.ptr and _sdk_free is not None:
            _sdk_free(self.ptr)
            self.ptr = None


class ChatDataSDK:
    """ChatDataSDK(corpid, agentid, ability_id, job_info): invokes SDK APIs as that app and
    ability; job_info is "" except for program_async_job_call_back. One method per SDK API
    name (API_NAMES), e.g. sync_msg(req): req is the request JSON text; returns the reply
    JSON text (check its errcode). Raises WWSpecSDKError on a transport or SDK failure
    (code -10001 ... -10009). A name that is not an SDK API is not a method (AttributeError).
    Thread-safe.
    """

    def __init__(self, corpid, agentid, ability_id, job_info):
        ptr = _sdk_new(_bytes(corpid, "corpid"), int(agentid), _bytes(ability_id, "ability_id"),
                       _bytes(job_info, "job_info"))
        if not ptr:
            raise MemoryError("wwspecapisdk: out of memory")
        self._sdk = _Sdk(ptr)

    def _invoke(self, api, req):
        body = _bytes(req, "the request of %s" % api)
        if b"\0" in body:
            raise WWSpecSDKError(-10009, "the request of %s holds a NUL byte" % api)
        rsp = _c.c_void_p()
        err = _c.create_string_buffer(_ERRBUF_SIZE)
        code = _sdk_invoke(self._sdk.ptr, api.encode(), body, _c.byref(rsp), err, _ERRBUF_SIZE)
        if code != 0:
            raise WWSpecSDKError(code, _text(err.value) or _strerr(code))
        try:
            return _text(_c.string_at(rsp.value)) if rsp.value else ""
        finally:
            _string_free(rsp)


def _api_method(api):
    def method(self, req):
        return self._invoke(api, req)

    method.__name__ = api
    method.__qualname__ = "ChatDataSDK." + api
    method.__doc__ = "Invokes SDK API %s with req (JSON text); returns the reply text." % api
    return method


for _name in API_NAMES:
    setattr(ChatDataSDK, _name, _api_method(_name))
del _name


# ---- notify ids, debug mode, logs ------------------------------------------------------------


def spec_gen_notify_id():
    """A fresh notify id: 32 lower-case hex characters."""
    p = _gen_notify_id()
    if not p:
        raise MemoryError("wwspecapisdk: out of memory")
    try:
        return _text(_c.string_at(p))
    finally:
        _string_free(p)


def spec_open_debug_mode(debug_token, access_token):
    """The SDK half of debug mode; True when the emulator accepted it (errcode 0)."""
    err = _c.create_string_buffer(_ERRBUF_SIZE)
    ok = _open_debug(_bytes(debug_token, "debug_token"), _bytes(access_token, "access_token"),
                     err, _ERRBUF_SIZE)
    if ok != 1:
        spec_log_error("spec_open_debug_mode:", _text(err.value))
    return ok == 1


def _log(level, args, sep):
    text = sep.join(str(a) for a in args)
    try:
        f = sys._getframe(2)
        where, line = os.path.basename(f.f_code.co_filename), f.f_lineno
    except ValueError:
        where, line = "python", 0
    _log_write(_c.c_int(level), _c.c_char_p(_bytes(where, "file")), _c.c_int(line),
               _c.c_char_p(b"%s"), _c.c_char_p(_bytes(text, "text").replace(b"\0", b" ")))


def spec_log_info(*args, sep=" "):
    """One INFO line, print-like: the arguments as str joined with sep (128 bytes kept)."""
    _log(_LOG_INFO, args, sep)


def spec_log_error(*args, sep=" "):
    """One ERR line, print-like."""
    _log(_LOG_ERR, args, sep)


def spec_log_debug(*args, sep=" "):
    """One DBG line, print-like (written when ZONELAB_LOG_LEVEL is 3/DBG)."""
    _log(_LOG_DBG, args, sep)
