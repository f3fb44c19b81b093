# SPDX-License-Identifier: GPL-2.0-or-later
# bench.png from status.dat and ratios.dat (run in the results directory by bench/run).
set terminal pngcairo size 1400,560 font ",10"
set output "bench.png"
set multiplot layout 1,2
set title "status on a synthetic tree"
set xlabel "module x kernel entries"
set ylabel "median wall time (ms)"
set logscale y
set key top left
set grid
plot "status.dat" using 1:2 with linespoints lw 2 pt 7 title "Debian dkms", \
     "status.dat" using 1:3 with linespoints lw 2 pt 5 title "dkms-run"
set title "dkms-run / dkms (median, min-max; lower is better)"
set xlabel ""
set ylabel "ratio (log)"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -35 noenhanced
set yrange [1e-4:2]
unset logscale x
plot "ratios.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa" title "ratio", \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt -1 notitle, \
     "" using 0:5 with points pt 6 ps 2 lc rgb "red" title "target"
unset multiplot
