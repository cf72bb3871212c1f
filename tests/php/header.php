<?php
// The other common PHP pattern: CURLOPT_HEADER + CURLOPT_RETURNTRANSFER,
// split with CURLINFO_HEADER_SIZE. Prints the body; headers to stderr.
$ch = curl_init($argv[1]);
curl_setopt($ch, CURLOPT_POSTFIELDS, file_get_contents($argv[2]));
curl_setopt($ch, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
curl_setopt($ch, CURLOPT_HEADER, true);
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$out = curl_exec($ch);
$size = curl_getinfo($ch, CURLINFO_HEADER_SIZE);
fwrite(STDERR, substr($out, 0, $size));
echo substr($out, $size);
