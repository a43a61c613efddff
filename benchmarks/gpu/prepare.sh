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
[[ -x .device/jre/bin/java ]] || ../shared/device/make-jre.sh .device/jre
mkdir -p .device/lib .device/bench
cp $m2/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13.jar $m2/org/bytedeco/javacpp/1.5.13/javacpp-1.5.13-linux-x86_64.jar \
   $m2/$console .device/lib/
rm -rf .device/classes .device/test-classes
cp -r target/classes .device/classes
cp -r target/test-classes .device/test-classes
javac -d .device/bench -cp target/classes:.device/lib/javacpp-1.5.13.jar benchmarks/gpu/GpuLossTiming.java
cp ../shared/bench/gpu_peers.py .device/
du -sh .device
