#!/bin/sh
# golm demo. The license server (lmgrd and the vendor daemons) is not in
# this tree yet; until it is, this script says what the demo will show and
# runs the commands that need no server.
set -e
cd "$(dirname "$0")/.."
LMUTIL=./lmutil

cat <<'TEXT'
golm demo
=========
Once the license server exists, this demo will:
  1. write a license file with a SERVER line for this host, a vendor
     daemon and a 2-seat feature, and sign it with lmcrypt;
  2. start lmgrd on it, which starts the vendor daemon;
  3. check out both seats with lmwrap and show them in lmstat -a;
  4. show a third lmwrap being denied (-4, exit status 252);
  5. shut everything down with lmdown.

Today, the commands that need no server:
TEXT

echo
echo "\$ lmutil -v"
$LMUTIL -v
echo
echo "\$ lmutil lmhostid"
$LMUTIL lmhostid || true
echo
echo "\$ lmutil -list-applets"
$LMUTIL -list-applets
