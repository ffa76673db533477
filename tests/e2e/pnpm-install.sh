#!/bin/sh
# Offline stand-in for https://get.pnpm.io/install.sh (which this machine cannot reach), for the end-to-end tests:
# the same steps for pnpm before v11, from the npm registry instead of GitHub's releases. The official script
# downloads the standalone binary pnpm-linux-x64 of a release into a temporary folder and runs
# `SHELL="$SHELL" "$tmp_dir/pnpm" setup --force`, which copies it to $HOME/.local/share/pnpm and fails without a
# SHELL; @pnpm/linux-x64 on npm is that same binary. Difference: without PNPM_VERSION the official script takes the
# latest pnpm, this one the version of package.json's packageManager (pnpm switches to it anyway).
set -e
version="${PNPM_VERSION:-$(node -p "(require('./package.json').packageManager || '').replace(/^pnpm@/, '')")}"
[ -n "$version" ] || version="$(npm view pnpm version)"
tmp_dir="$(mktemp -d)"
trap 'rm -rf "$tmp_dir"' EXIT INT TERM HUP
echo "==> Downloading pnpm binaries $version (@pnpm/linux-x64 from the npm registry)"
(cd "$tmp_dir" && npm pack --silent "@pnpm/linux-x64@$version" >/dev/null && tar -xzf ./*.tgz)
chmod +x "$tmp_dir/package/pnpm"
SHELL="$SHELL" "$tmp_dir/package/pnpm" setup --force
