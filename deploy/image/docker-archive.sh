#!/bin/bash
# Writes a docker-archive image tarball (what 'docker save' writes, and what
# 'docker load', 'ctr images import' and 'skopeo copy docker-archive:...'
# read) from uncompressed layer tarballs, with no daemon and no registry.
#
# Usage: docker-archive.sh OUT.tar NAME:TAG CONFIG-JSON LAYER.tar...
#   CONFIG-JSON  the image's run configuration as JSON, for example
#                '{"Entrypoint": ["/pause"]}' (Env, Cmd, WorkingDir...)
#   LAYER.tar    layers, lowest first
# The output appears atomically.
set -euo pipefail

die() {
    echo "docker-archive.sh: $*" >&2
    exit 1
}

[[ $# -ge 4 ]] || die "usage: docker-archive.sh OUT.tar NAME:TAG CONFIG-JSON LAYER.tar..."
out=$1 tag=$2 runconfig=$3
shift 3
[[ $tag == *:* ]] || die "the image name '$tag' needs a tag"
jq -e 'type == "object"' <<<"$runconfig" >/dev/null \
    || die "CONFIG-JSON is not a JSON object: $runconfig"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/docker-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT

layers=() diffids=()
for layer in "$@"; do
    [[ -f $layer ]] || die "no layer $layer"
    sum=$(sha256sum "$layer" | cut -d' ' -f1)
    mkdir -p "$work/$sum"
    # A hard link where the file system allows it: layers can be large.
    ln "$layer" "$work/$sum/layer.tar" 2>/dev/null \
        || cp "$layer" "$work/$sum/layer.tar"
    echo 1.0 > "$work/$sum/VERSION"
    layers+=("$sum/layer.tar")
    diffids+=("sha256:$sum")
done

created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
jq -n --argjson rc "$runconfig" --arg created "$created" \
      --args '{architecture: "amd64", os: "linux", created: $created,
               config: $rc,
               rootfs: {type: "layers", diff_ids: $ARGS.positional}}' \
      "${diffids[@]}" > "$work/config.json"
cfgsum=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$cfgsum.json"
jq -n --arg cfg "$cfgsum.json" --arg tag "$tag" \
      --args '[{Config: $cfg, RepoTags: [$tag], Layers: $ARGS.positional}]' \
      "${layers[@]}" > "$work/manifest.json"
name=${tag%:*}
jq -n --arg name "$name" --arg t "${tag##*:}" --arg id "${layers[-1]%/*}" \
      '{($name): {($t): $id}}' > "$work/repositories"

tar -C "$work" --owner=0 --group=0 --numeric-owner -cf "$out.tmp" \
    manifest.json repositories "$cfgsum.json" "${layers[@]%/layer.tar}"
mv "$out.tmp" "$out"
echo "docker-archive.sh: $out ($tag, ${#layers[@]} layers)" >&2
