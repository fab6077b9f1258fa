package dhtnode.api;

import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawRequestURI;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Decodes the key from the request path after {@code /d/}. A key is any UTF-8 string; in the path
 * it is percent-encoded, and an unencoded '/' is part of the key (so {@code /d/a/b} and {@code
 * /d/a%2Fb} name the same key). Malformed escapes and invalid UTF-8 are rejected rather than
 * silently replaced, so two different requests never collapse onto one stored key.
 */
public final class KeyPath {
  private KeyPath() {}

  /**
   * If the request is for {@code /d} or {@code /d/...}, the still-encoded key part after "/d",
   * taken from the raw request URI exactly as the client sent it. Akka's parsed path has already
   * decoded escapes, replacing invalid UTF-8 and resolving "." and ".." segments, which would let
   * different requests name the same key (or none). The raw header is enabled in {@code
   * NodeGuardian.serverSettings}.
   */
  public static Optional<String> rawDataPath(HttpRequest request) {
    return rawPathAfter(request, "/d");
  }

  /** Like {@link #rawDataPath} for any fixed prefix, e.g. "/cluster/owners". */
  public static Optional<String> rawPathAfter(HttpRequest request, String prefix) {
    String path = request.getHeader(RawRequestURI.class).map(h -> pathOf(h.uri())).orElse("");
    if (path.equals(prefix) || path.startsWith(prefix + "/")) {
      return Optional.of(path.substring(prefix.length()));
    }
    return Optional.empty();
  }

  /** The response for a key that cannot be decoded: 414 when too long, else 400. */
  public static HttpResponse badKeyResponse(BadKey e) {
    return e.tooLong
        ? ErrorBody.response(StatusCodes.URI_TOO_LONG, "key_too_long", e.getMessage())
        : ErrorBody.response(StatusCodes.BAD_REQUEST, "bad_key", e.getMessage());
  }

  /** The path of a raw request target, without query; handles the absolute form too. */
  private static String pathOf(String rawUri) {
    String path = rawUri;
    int scheme = path.indexOf("://");
    if (scheme >= 0) {
      int slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? "" : path.substring(slash);
    }
    int query = path.indexOf('?');
    return query >= 0 ? path.substring(0, query) : path;
  }

  /** Thrown with a message fit for the client. */
  public static final class BadKey extends Exception {
    public final boolean tooLong;

    BadKey(String message, boolean tooLong) {
      super(message, null, false, false);
      this.tooLong = tooLong;
    }
  }

  /**
   * @param encoded the path after "/d", starting with '/' (or empty)
   */
  public static String decode(String encoded, int maxKeyBytes) throws BadKey {
    String raw = encoded.startsWith("/") ? encoded.substring(1) : encoded;
    if (raw.isEmpty()) {
      throw new BadKey("the key is empty: use /d/{key}", false);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char ch = raw.charAt(i);
      if (ch == '%') {
        if (i + 2 >= raw.length()) {
          throw new BadKey("malformed percent-escape at the end of the key", false);
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new BadKey(
              "malformed percent-escape \"" + raw.substring(i, i + 3) + "\" in the key", false);
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else if (ch < 0x80) {
        bytes.write(ch);
      } else {
        byte[] utf8 = String.valueOf(ch).getBytes(StandardCharsets.UTF_8);
        bytes.write(utf8, 0, utf8.length);
      }
      if (bytes.size() > maxKeyBytes) {
        throw new BadKey("the key is longer than " + maxKeyBytes + " bytes (UTF-8)", true);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadKey("the key is not valid UTF-8 after percent-decoding", false);
    }
  }
}
