// Package licfile reads FLEXlm license files: every line kind and format
// of the manual's chapter 3, the license path (-c lists, LM_LICENSE_FILE,
// VENDOR_LICENSE_FILE, $HOME/.flexlmrc, directories of *.lic, port@host),
// hostids, ck= checksums and Ed25519 line signatures.
//
// Parse reports every bad line in one pass as file:line:column with the
// FlexLM error code, and never panics.
package licfile
