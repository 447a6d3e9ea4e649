"""Service keys: the key file (strict reading, writing with mode 0600, the check Landscape Management does), x509
keys, the key test (sign-in) and one writer per key file."""
