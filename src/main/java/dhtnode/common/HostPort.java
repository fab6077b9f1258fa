package dhtnode.common;

/** A {@code host:port} address, as seeds are written in the config. */
public record HostPort(String host, int port) {

  public static HostPort parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got \"" + text + "\"");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected host:port, got \"" + text + "\"");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range in \"" + text + "\"");
    }
    return new HostPort(text.substring(0, colon), port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
