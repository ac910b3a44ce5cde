// Command addrgen writes realistic addresses built from the official
// administrative-unit lists, for timing `hopnhat address convert` on large
// inputs (bench/address.sh). 70 % are legacy addresses (ward, district,
// province, as the legacy→new mapping names them), 30 % new-form (ward,
// province); each starts with a house number and a street.
//
//	go run ./bench/addrgen -dir ../shared/data/adminunits -n 1000000 -out addr.txt [-xlsx addr.xlsx]
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/xuri/excelize/v2"
)

func main() {
	dir := flag.String("dir", "../shared/data/adminunits", "the official lists' directory")
	n := flag.Int("n", 1000000, "how many addresses")
	out := flag.String("out", "addr.txt", "text file, one address per line")
	xlsx := flag.String("xlsx", "", "also write them as a workbook column (optional)")
	flag.Parse()
	legacy := readCSV(filepath.Join(*dir, "convert_legacy_2025_simple.csv"))
	current := readCSV(filepath.Join(*dir, "2025_34-province-3221-ward_with_location.csv"))
	r := rand.New(rand.NewPCG(1, 2))
	streets := []string{"Lê Lợi", "Nguyễn Huệ", "Trần Phú", "Quang Trung"}
	addrs := make([]string, 0, *n)
	for range *n {
		st := fmt.Sprintf("Số %d %s", 1+r.IntN(300), streets[r.IntN(len(streets))])
		if r.IntN(10) < 7 {
			x := legacy[1+r.IntN(len(legacy)-1)] // ward (may be empty for island districts), district, province
			if x[10] == "" {
				addrs = append(addrs, fmt.Sprintf("%s, %s, %s", st, x[9], x[8]))
			} else {
				addrs = append(addrs, fmt.Sprintf("%s, %s, %s, %s", st, x[10], x[9], x[8]))
			}
		} else {
			x := current[1+r.IntN(len(current)-1)]
			addrs = append(addrs, fmt.Sprintf("%s, %s, %s", st, x[1], x[0]))
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, a := range addrs {
		fmt.Fprintln(w, a)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	if *xlsx != "" {
		writeXLSX(*xlsx, addrs)
	}
}

func readCSV(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	return rows
}

func writeXLSX(path string, addrs []string) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		log.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"STT", "Địa chỉ thường trú"}); err != nil {
		log.Fatal(err)
	}
	for i, a := range addrs {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{i + 1, a}); err != nil {
			log.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		log.Fatal(err)
	}
}
