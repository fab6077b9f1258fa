package dhtnode.common;

/** A configuration value is missing or wrong; the message names the key and what to change. */
public final class SettingsException extends RuntimeException {
  public SettingsException(String message) {
    super(message);
  }
}
