// Json: the little JSON the program needs (the JDK has none): parse into Map, List,
// String, Double, Boolean and Json.NULL, and write strings and objects.
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

final class Json {
    /** JSON null. */
    static final Object NULL = new Object() {
        @Override
        public String toString() { return "null"; }
    };

    private static final int MAX_DEPTH = 64;

    private final String s;
    private int i;

    private Json(String s) { this.s = s; }

    /** The value of text, or null when it is not JSON. */
    static Object parse(String text) {
        if (text == null)
            return null;
        Json p = new Json(text);
        try {
            Object v = p.value(0);
            p.ws();
            return p.i == text.length() ? v : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** text parsed as an object, or null. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String text) {
        Object v = parse(text);
        return v instanceof Map ? (Map<String, Object>) v : null;
    }

    /** A member that is a string, or null. */
    static String str(Map<String, Object> o, String key) {
        Object v = o == null ? null : o.get(key);
        return v instanceof String ? (String) v : null;
    }

    /** A member that is a number, as a long, or dflt. */
    static long num(Map<String, Object> o, String key, long dflt) {
        Object v = o == null ? null : o.get(key);
        return v instanceof Double ? (long) (double) (Double) v : dflt;
    }

    /** s as a JSON string literal. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
            case '"': b.append("\\\""); break;
            case '\\': b.append("\\\\"); break;
            case '\n': b.append("\\n"); break;
            case '\r': b.append("\\r"); break;
            case '\t': b.append("\\t"); break;
            default:
                if (c < 0x20)
                    b.append(String.format("\\u%04x", (int) c));
                else
                    b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** {"errcode":code,"errmsg":msg}. */
    static String error(long code, String msg) {
        return "{\"errcode\":" + code + ",\"errmsg\":" + quote(msg) + "}";
    }

    private void ws() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0)
            i++;
    }

    private RuntimeException bad() { return new IllegalArgumentException("not JSON at " + i); }

    private Object value(int depth) {
        if (depth > MAX_DEPTH)
            throw bad();
        ws();
        if (i >= s.length())
            throw bad();
        char c = s.charAt(i);
        if (c == '{') {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == '}') {
                i++;
                return m;
            }
            for (;;) {
                ws();
                String k = string();
                ws();
                expect(':');
                m.put(k, value(depth + 1));
                ws();
                if (i < s.length() && s.charAt(i) == ',') {
                    i++;
                    continue;
                }
                expect('}');
                return m;
            }
        }
        if (c == '[') {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == ']') {
                i++;
                return l;
            }
            for (;;) {
                l.add(value(depth + 1));
                ws();
                if (i < s.length() && s.charAt(i) == ',') {
                    i++;
                    continue;
                }
                expect(']');
                return l;
            }
        }
        if (c == '"')
            return string();
        if (s.startsWith("true", i)) {
            i += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
            i += 5;
            return Boolean.FALSE;
        }
        if (s.startsWith("null", i)) {
            i += 4;
            return NULL;
        }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0)
            i++;
        if (start == i)
            throw bad();
        return Double.valueOf(s.substring(start, i));
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c)
            throw bad();
        i++;
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"')
                return b.toString();
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length())
                break;
            char e = s.charAt(i++);
            switch (e) {
            case 'b': b.append('\b'); break;
            case 'f': b.append('\f'); break;
            case 'n': b.append('\n'); break;
            case 'r': b.append('\r'); break;
            case 't': b.append('\t'); break;
            case 'u':
                if (i + 4 > s.length())
                    throw bad();
                b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                i += 4;
                break;
            default: b.append(e);
            }
        }
        throw bad();
    }
}
