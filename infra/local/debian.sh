# Sourced by the scripts that install what the checks need from Debian's packages (browser.sh, fonts.sh, node.sh).
# debian_install WHAT PACKAGE...: install the packages as root (or through sudo), or say what to run and fail.
debian_install() {
    local what="$1"; shift
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$what is missing and this is not a Debian-like system; install: $*" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "$what is missing; as root run: apt-get install $*" >&2
            return 1
        fi
        sudo="sudo"
    fi
    echo "installing $* from Debian's packages" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
