package dhtnode;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package picture of docs/architecture.md, checked on the compiled main classes: each package
 * imports only the ones below it (metrics and the two bottom layers serve everyone), and no set of
 * packages depends on itself in a cycle. A new import that breaks either fails the build here, with
 * the offending classes named.
 */
@AnalyzeClasses(
    packages = "dhtnode",
    importOptions = {ImportOption.DoNotIncludeTests.class, LayersTest.NoBenchmarks.class})
class LayersTest {

  /** The JMH benchmarks (compiled into the main classes only under -Pjmh) sit outside the node. */
  static final class NoBenchmarks implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("/dhtnode/bench/");
    }
  }

  @ArchTest
  static final ArchRule everyPackageIsInALayer =
      classes()
          .should()
          .resideInAnyPackage(
              "dhtnode.node",
              "dhtnode.api",
              "dhtnode.replication",
              "dhtnode.stabilization",
              "dhtnode.ring",
              "dhtnode.membership",
              "dhtnode.storage",
              "dhtnode.keyspace",
              "dhtnode.common",
              "dhtnode.metrics",
              "dhtnode.cli")
          .because("a package outside the layer picture would escape the rules below");

  @ArchTest
  static final ArchRule packagesOnlyImportLayersBelowThem =
      layeredArchitecture()
          .consideringOnlyDependenciesInLayers()
          .layer("node")
          .definedBy("dhtnode.node..")
          .layer("api")
          .definedBy("dhtnode.api..")
          .layer("replication")
          .definedBy("dhtnode.replication..")
          .layer("stabilization")
          .definedBy("dhtnode.stabilization..")
          .layer("ring")
          .definedBy("dhtnode.ring..")
          .layer("membership")
          .definedBy("dhtnode.membership..")
          .layer("storage")
          .definedBy("dhtnode.storage..")
          .layer("keyspace")
          .definedBy("dhtnode.keyspace..")
          .layer("common")
          .definedBy("dhtnode.common..")
          .layer("metrics")
          .definedBy("dhtnode.metrics..")
          .layer("cli")
          .definedBy("dhtnode.cli..")
          .whereLayer("node")
          .mayNotBeAccessedByAnyLayer()
          // dhtctl talks to nodes over HTTP only: it shares no code with them but common's
          .whereLayer("cli")
          .mayNotBeAccessedByAnyLayer()
          .whereLayer("cli")
          .mayOnlyAccessLayers("common")
          .whereLayer("api")
          .mayOnlyAccessLayers(
              "replication",
              "stabilization",
              "ring",
              "membership",
              "storage",
              "keyspace",
              "common",
              "metrics")
          // replication and stabilization stand side by side: neither names the other
          .whereLayer("replication")
          .mayOnlyAccessLayers("ring", "membership", "storage", "keyspace", "common", "metrics")
          .whereLayer("stabilization")
          .mayOnlyAccessLayers("ring", "membership", "storage", "keyspace", "common", "metrics")
          .whereLayer("ring")
          .mayOnlyAccessLayers("membership", "keyspace", "common", "metrics")
          // membership and storage stand side by side too
          .whereLayer("membership")
          .mayOnlyAccessLayers("keyspace", "common", "metrics")
          .whereLayer("storage")
          .mayOnlyAccessLayers("keyspace", "common", "metrics")
          .whereLayer("keyspace")
          .mayOnlyAccessLayers("common")
          .whereLayer("common")
          .mayNotAccessAnyLayer()
          // meters only: it may name common's value types (a consistency level) and nothing else
          .whereLayer("metrics")
          .mayOnlyAccessLayers("common");

  @ArchTest
  static final ArchRule noPackageCycles =
      slices().matching("dhtnode.(*)..").should().beFreeOfCycles();
}
