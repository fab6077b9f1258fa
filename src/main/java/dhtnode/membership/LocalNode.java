package dhtnode.membership;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Who this node is to SWIM: its name, the host and cluster port it binds UDP on, its HTTP port
 * (gossiped so others can reach its API) and the seeds it joins through. A seed equal to its own
 * address is ignored; a seed list of only itself founds a new cluster.
 */
public record LocalNode(
    String name, String host, int clusterPort, int httpPort, List<InetSocketAddress> seeds) {
  public LocalNode {
    seeds = List.copyOf(seeds);
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(host, clusterPort);
  }

  /** The seeds other than this node itself. */
  public List<InetSocketAddress> otherSeeds() {
    InetSocketAddress self = address();
    return seeds.stream().filter(s -> !s.equals(self)).toList();
  }
}
