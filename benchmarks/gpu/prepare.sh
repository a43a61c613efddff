#!/usr/bin/env bash
# Prepares .device/ (git-ignored) for benchmarks/gpu/check.sh: a small Java runtime, the built
# kernel classes and natives, the jars the GPU checks need, and the PyTorch peer baselines. Run
# here, then: device run with carry [".device"], command "bash benchmarks/gpu/check.sh".
# Only the kernels module (native/, org.dnonative:dno-native-kernels) travels: every GPU check is
# a kernel test or times the kernels, and the trainer's classes would need libtorch, whose jars
# do not fit the 64 MiB carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo /.device/ >> .git/info/exclude
# -pl native: the kernel classes into native/target/classes (with libdnonative and its JNI glue),
# the kernel tests into native/target/test-classes.
mvn -B -q -pl native test-compile
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
rm -rf .device/classes .device/test-classes .device/bench
cp -r native/target/classes .device/classes
cp -r native/target/test-classes .device/test-classes
for f in org/dnonative/kernel/linux-x86_64/libdnonative.so org/dnonative/kernel/linux-x86_64/libjniDnoNative.so \
         org/dnonative/kernel/CudaDnoLossTest.class org/dnonative/kernel/CudaFusedLinearDnoLossTest.class; do
  [[ -f .device/classes/$f || -f .device/test-classes/$f ]] || { echo "prepare.sh: $f was not built" >&2; exit 1; }
done
mkdir -p .device/bench
javac -d .device/bench -cp .device/classes:.device/lib/javacpp-1.5.13.jar benchmarks/gpu/GpuLossTiming.java
cp ../shared/bench/gpu_peers.py .device/
du -sh .device
