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

  /**
   * The socket address to send to: resolved at once when the host is an IP literal (no lookup),
   * unresolved otherwise, so a host name is looked up where and when the datagram is sent, each
   * time, and follows the name to a new address.
   */
  public java.net.InetSocketAddress socketAddress() {
    return socketAddress(host, port);
  }

  /** As {@link #socketAddress()}, for any host and port. */
  public static java.net.InetSocketAddress socketAddress(String host, int port) {
    if (isIpLiteral(host)) {
      return new java.net.InetSocketAddress(host, port); // a literal is parsed, never looked up
    }
    return java.net.InetSocketAddress.createUnresolved(host, port);
  }

  /** An IPv4 dotted quad or an IPv6 address (it has a colon; a host name never does). */
  static boolean isIpLiteral(String host) {
    return host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.contains(":");
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
