# Copyright (c) 2026 The ct-offload authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Shared definitions for the scripts in tools/.  Sourced, not run.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tree=${OVS_TREE:-$top/build/ovs}
pristine=$top/build/pristine
series_file=$top/patches/series
upstream_tag=upstream-4.0.0

# Top-level directories whose files are new files of the OVS tree.
overlay_dirs="lib tests Documentation vswitchd utilities ofproto include"

# Files that boot.sh regenerates: not part of the pristine commit, so that
# the materialised tree shows only our change.
generated_files="/Makefile.in /aclocal.m4 /config.h.in /configure
/build-aux/compile /build-aux/config.guess /build-aux/config.sub
/build-aux/depcomp /build-aux/install-sh /build-aux/ltmain.sh
/build-aux/missing /m4/libtool.m4 /m4/ltoptions.m4 /m4/ltsugar.m4
/m4/ltversion.m4 /m4/lt~obsolete.m4 /debian/ /autom4te.cache/
/tests/testsuite /tests/*-testsuite"

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*"; }

# Prints "PATCH FILE..." per entry of patches/series: a line naming a patch
# file starts an entry, indented lines after it list the new files (overlay
# files) that the same logical patch adds.
series_entries() {
    [ -f "$series_file" ] || return 0
    awk '/^[ \t]*(#|$)/ { next }
         /^[^ \t]/ { if (line != "") print line; line = $1; next }
         { for (i = 1; i <= NF; i++) line = line " " $i }
         END { if (line != "") print line }' "$series_file"
}

# Overlay files present at the top of this repository.
overlay_files() {
    (cd "$top" && git ls-files --cached --others --exclude-standard \
                      -- $overlay_dirs | sort -u)
}

# Upstream files edited in build/ovs and not committed there.  New files
# are left out: their copies at the top of the repository are the ones that
# count, and the build tree gets them from there.
tree_edits() {
    git -C "$tree" status --porcelain --untracked-files=no |
        sed 's/^...//' | grep -vxF -f <(overlay_files) || true
}

tree_is_dirty() {
    [ -n "$(tree_edits)" ]
}

# Unpacks pristine 4.0.0 into DIR, once, ready for tools/build.sh.
unpack_pristine() {
    local dir=$1
    if [ ! -d "$dir" ]; then
        rm -rf "$dir.tmp"
        "$top/tools/fetch-ovs.sh" "$dir.tmp"
        mkdir -p "$dir.tmp/debian"
        : > "$dir.tmp/debian/automake.mk"
        # The tarball's configure comes from another autotools version:
        # build.sh runs boot.sh again.
        rm -f "$dir.tmp/configure"
        mv "$dir.tmp" "$dir"
    fi
}

# Builds pristine 4.0.0 in build/pristine: the reference that
# check-full.sh and check-system.sh compare ours with.
build_pristine() {
    unpack_pristine "$pristine"
    OVS_TREE=$pristine "$top/tools/build.sh"
}
