<?php
// The usual PHP SSE client: curl_exec with a CURLOPT_WRITEFUNCTION closure
// that prints each chunk as it arrives. Usage: php stream.php URL BODYFILE
$ch = curl_init($argv[1]);
curl_setopt($ch, CURLOPT_POSTFIELDS, file_get_contents($argv[2]));
curl_setopt($ch, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
$calls = 0;
curl_setopt($ch, CURLOPT_WRITEFUNCTION, function ($ch, $data) use (&$calls) {
    $calls++;
    echo $data;
    return strlen($data);
});
$ok = curl_exec($ch);
fwrite(STDERR, sprintf("ok=%d status=%d ct=%s calls=%d\n", $ok ? 1 : 0,
    curl_getinfo($ch, CURLINFO_RESPONSE_CODE),
    curl_getinfo($ch, CURLINFO_CONTENT_TYPE), $calls));
