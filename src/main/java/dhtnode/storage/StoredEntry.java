package dhtnode.storage;

/** One key as a range scan returns it: the key, its ring token and its stored value. */
public record StoredEntry(String key, long token, Versioned value) {}
