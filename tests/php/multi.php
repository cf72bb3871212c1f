<?php
// Several transfers at once on curl_multi_*. Usage: php multi.php URL BODYFILE...
// Each output goes to BODYFILE.out.
$mh = curl_multi_init();
$handles = [];
foreach (array_slice($argv, 2) as $file) {
    $ch = curl_init($argv[1]);
    curl_setopt($ch, CURLOPT_POSTFIELDS, file_get_contents($file));
    curl_setopt($ch, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
    $out = fopen("$file.out", 'wb');
    curl_setopt($ch, CURLOPT_WRITEFUNCTION, function ($ch, $data) use ($out) {
        return fwrite($out, $data);
    });
    curl_multi_add_handle($mh, $ch);
    $handles[$file] = [$ch, $out];
}
do {
    $status = curl_multi_exec($mh, $running);
    if ($running) curl_multi_select($mh, 1.0);
} while ($running && $status == CURLM_OK);
while ($info = curl_multi_info_read($mh)) {
    if ($info['result'] != CURLE_OK) fwrite(STDERR, "result {$info['result']}\n");
}
foreach ($handles as $file => [$ch, $out]) {
    fwrite(STDERR, "$file ct=" . curl_getinfo($ch, CURLINFO_CONTENT_TYPE) . "\n");
    curl_multi_remove_handle($mh, $ch);
    fclose($out);
}
curl_multi_close($mh);
