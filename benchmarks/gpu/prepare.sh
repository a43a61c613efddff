#!/usr/bin/env bash
# Prepares .device/ (git-ignored) for benchmarks/gpu/check.sh: a small Java runtime, the built
# classes and natives, the jars the GPU checks need, and the PyTorch peer baselines. Run here,
# then: device run with carry [".device"], command "bash benchmarks/gpu/check.sh".
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo /.device/ >> .git/info/exclude
mvn -B -q test-compile
m2=~/.m2/repository
console=org/junit/platform/junit-platform-console-standalone/1.14.1/junit-platform-console-standalone-1.14.1.jar
[[ -f $m2/$console ]] || mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1
# java.xml: the JUnit console writes its XML reports with it.
if ! .device/jre/bin/java --list-modules 2>/dev/null | grep -q '^java.xml@'; then
  EXTRA_MODULES=java.xml ../shared/device/make-jre.sh .device/jre
fi
mkdir -p .device/lib .device/bench
cp $m2/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar $m2/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13-linux-x86_64.jar \
   $m2/$console .device/lib/
# OpenBLAS for the CPU fused-linear path that the GPU tests compare against: its Java jar, and only
# the natives the no-LAPACK CBLAS loads (12 MB instead of the full natives jar's 20 MB of the carry).
ob=$m2/org/bytedeco/openblas/0.3.31-1.5.13
cp $ob/openblas-0.3.31-1.5.13.jar .device/lib/
if [[ ! -f .device/lib/openblas-nolapack-linux-x86_64.jar ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q $ob/openblas-0.3.31-1.5.13-linux-x86_64.jar \
     'org/bytedeco/openblas/linux-x86_64/libjniopenblas_nolapack.so' 'org/bytedeco/openblas/linux-x86_64/libopenblas.so.0' \
     'org/bytedeco/openblas/linux-x86_64/libgfortran.so.5' 'org/bytedeco/openblas/linux-x86_64/libquadmath.so.0' \
     'org/bytedeco/openblas/linux-x86_64/libgcc_s.so.1' && zip -q -r -9 openblas.jar org)
  mv "$tmp/openblas.jar" .device/lib/openblas-nolapack-linux-x86_64.jar
  rm -rf "$tmp"
fi
rm -rf .device/classes .device/test-classes
cp -r target/classes .device/classes
cp -r target/test-classes .device/test-classes
javac -d .device/bench -cp target/classes:.device/lib/javacpp-1.5.13.jar benchmarks/gpu/GpuLossTiming.java
cp ../shared/bench/gpu_peers.py .device/
du -sh .device
