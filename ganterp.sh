#!/usr/bin/env bash
# Set up ganterp on first use, then run it.
#
#   ./ganterp.sh                 the live show on the bundled demo track (headless: records it)
#   ./ganterp.sh test            the test suite
#   ./ganterp.sh ARGS...         any ganterp command, e.g. ./ganterp.sh live --input mic
#
# Set-up: Debian packages (PortAudio; for the tests also JACK and Xvfb), a virtual
# environment in .venv, PyTorch (CPU build, pinned) and ganterp itself with its
# BigGAN support (weights are fetched only by `ganterp models fetch`). It runs
# again only when pyproject.toml changes. GANTERP_VENV and TORCH_SPEC override
# the environment's folder and the torch requirement. Paths given to a command
# mean what they mean in the folder it is run from (a headless show records there).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

VENV="${GANTERP_VENV:-$HERE/.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
RUN_PACKAGES=(libportaudio2)
BUILD_PACKAGES=(python3-venv python3-dev gcc)
TEST_PACKAGES=(jackd2 xvfb liblo-tools xdotool x11-utils asc-music ffmpeg sox iproute2)

say() { printf 'ganterp.sh: %s\n' "$*" >&2; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        say "please install these system packages: ${missing[*]}"
        return 0
    fi
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    say "installing system packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup() {
    local extras="$1"
    apt_install "${RUN_PACKAGES[@]}"
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null || ! python3 -c 'import sysconfig, os; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
        apt_install "${BUILD_PACKAGES[@]}"
    fi
    command -v gcc >/dev/null || apt_install gcc
    [ "$extras" = test ] && apt_install "${TEST_PACKAGES[@]}"
    local stamp="$VENV/.ganterp-$extras"
    local want
    want="$(sha256sum "$HERE/pyproject.toml" | cut -d' ' -f1) $TORCH_SPEC"
    # A test set-up has everything a run needs.
    for done in "$stamp" "$VENV/.ganterp-test"; do
        if [ -f "$done" ] && [ "$(cat "$done")" = "$want" ]; then
            return 0
        fi
    done
    [ -x "$VENV/bin/python" ] || { say "creating $VENV"; python3 -m venv "$VENV"; }
    say "installing Python packages (first run only; a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
    if [ "$extras" = test ]; then
        "$VENV/bin/python" -m pip install -q -e "$HERE[biggan,test]"
    else
        "$VENV/bin/python" -m pip install -q -e "$HERE[biggan]"
    fi
    echo "$want" > "$stamp"
}

case "${1:-}" in
    test)
        shift
        setup test
        cd "$HERE"  # the tests run in the repository
        "$VENV/bin/ruff" check live models tests tools
        "$VENV/bin/ruff" format --check live models tests tools
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    "")
        setup run
        exec "$VENV/bin/ganterp" live --input demo
        ;;
    *)
        setup run
        exec "$VENV/bin/ganterp" "$@"
        ;;
esac
