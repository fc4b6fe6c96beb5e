/*
   takedown built-in rules for WannaCry (WanaCrypt0r 2.0, May 2017) artefacts.
   Written for takedown from public facts about the malware: its kill-switch
   domains, mutex, service name, file names and the header of encrypted files.
   Licence: same as takedown.
*/

rule takedown_WannaCry_Encrypted_File
{
    meta:
        description = "A file encrypted by WannaCry: it starts with the WANACRY! header"
        author = "takedown"
        malware = "WannaCry"
        confidence = 95
    strings:
        $magic = "WANACRY!"
    condition:
        $magic at 0
}

rule takedown_WannaCry_Worm
{
    meta:
        description = "The WannaCry worm (mssecsvc.exe): kill-switch domain and its service"
        author = "takedown"
        malware = "WannaCry"
        confidence = 90
    strings:
        $ks1 = "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com" ascii wide
        $ks2 = "ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com" ascii wide
        $ks3 = "iuqssfsodp9ifjaposdfjhgosurijfaewrwergwea.com" ascii wide
        $ks4 = "ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf.com" ascii wide
        $svc = "mssecsvc2.0" ascii wide
        $svc_name = "Microsoft Security Center (2.0) Service" ascii wide
        $drop = "tasksche.exe" ascii wide
    condition:
        uint16(0) == 0x5a4d and (1 of ($ks*)) and 1 of ($svc, $svc_name, $drop)
}

rule takedown_WannaCry_Encryptor
{
    meta:
        description = "The WannaCry encryptor (tasksche.exe) or its components"
        author = "takedown"
        malware = "WannaCry"
        confidence = 85
    strings:
        $mutex = "MsWinZonesCacheCounterMutexA" ascii wide
        $reg = "WanaCrypt0r" ascii wide
        $ext = ".WNCRY" ascii wide
        $note = "@Please_Read_Me@.txt" ascii wide
        $dec = "@WanaDecryptor@.exe" ascii wide
        $cfg1 = "c.wnry" ascii wide
        $cfg2 = "t.wnry" ascii wide
        $cmd1 = "icacls . /grant Everyone:F /T /C /Q" ascii wide
        $cmd2 = "attrib +h ." ascii wide
    condition:
        uint16(0) == 0x5a4d and 3 of them
}

rule takedown_WannaCry_Ransom_Note
{
    meta:
        description = "A WannaCry ransom note or decryptor instruction file"
        author = "takedown"
        malware = "WannaCry"
        confidence = 90
    strings:
        $title = "Ooops, your files have been encrypted!" ascii wide nocase
        $dec = "@WanaDecryptor@" ascii wide
        $btc = "bitcoin" ascii wide nocase
        $wana = "Wana Decrypt0r" ascii wide nocase
    condition:
        filesize < 1MB and ($title or $wana) and ($dec or $btc)
}
