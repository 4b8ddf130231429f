#!/bin/sh
# Regenerates the golden outputs from Debian's siftool (sif 2.8.3) for every fixture image.
# The images and public keys are copies of the SIF reference project's test vectors; the
# test-*.pem keys are throwaway keys made with openssl for the sign tests.
set -eu
cd "$(dirname "$0")"
for f in images/*.sif; do
    n=$(basename "$f" .sif)
    siftool list "$f" > "golden/$n.list"
    siftool header "$f" > "golden/$n.header"
done
