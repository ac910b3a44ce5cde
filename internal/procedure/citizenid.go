package procedure

import "time"

// legacyProvinces are the 63 provinces' codes before the merger. A citizen
// identity number (CCCD, 12 digits) starts with 0 and the code of the
// province where the birth was registered, and those codes stay the old
// ones after the merger.
var legacyProvinces = map[string]bool{}

func init() {
	for _, c := range []string{"01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25",
		"26", "27", "30", "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48", "49", "51", "52", "54",
		"56", "58", "60", "62", "64", "66", "67", "68", "70", "72", "74", "75", "77", "79", "80", "82", "83", "84", "86", "87",
		"89", "91", "92", "93", "94", "95", "96"} {
		legacyProvinces[c] = true
	}
}

// CheckCitizenID checks a 12-digit citizen identity number's form: digits
// only, a province prefix 0xx of one of the 63 provinces, a century-and-sex
// digit (0–9) and a year of birth not after now. It returns "" or the i18n
// key of what is wrong.
func CheckCitizenID(id string, now time.Time) string {
	if len(id) != 12 {
		return "procedure.citizen_id_length"
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return "procedure.citizen_id_digits"
		}
	}
	if id[0] != '0' || !legacyProvinces[id[1:3]] {
		return "procedure.citizen_id_province"
	}
	// 0/1: born 1900–1999, 2/3: 2000–2099, 4/5: 2100–2199, 6/7: 2200–,
	// 8/9: 1800–1899; even for men, odd for women.
	centuries := [...]int{1900, 1900, 2000, 2000, 2100, 2100, 2200, 2200, 1800, 1800}
	year := centuries[id[3]-'0'] + int(id[4]-'0')*10 + int(id[5]-'0')
	if year > now.Year() || year < now.Year()-130 {
		return "procedure.citizen_id_year"
	}
	return ""
}
