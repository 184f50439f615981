set terminal pngcairo size 900,560
set output "/tmp/bn-replot/latest.png"
set title "Packets in the file vs rate asked of the generator (64 B, filter udp, snaplen 64)"
set xlabel "requested rate (Mpps); rightmost point: as fast as it can"
set ylabel "captured: packets in the file / s (Mpps)"
set key top left
set grid
set xrange [0:4.216874]
set yrange [0:4.216874]
plot x title "no loss" with lines dashtype 2 lc rgb "gray", "/work/main/bench/capture/results/quick/plot-ceiling.dat" using 1:2 title "ceiling" with linespoints lw 2, "/work/main/bench/capture/results/quick/plot-appliance.dat" using 1:2 title "appliance" with linespoints lw 2, "/work/main/bench/capture/results/quick/plot-appliance-bidir.dat" using 1:2 title "appliance-bidir" with linespoints lw 2, "/work/main/bench/capture/results/quick/plot-tcpdump.dat" using 1:2 title "tcpdump" with linespoints lw 2, "/work/main/bench/capture/results/quick/plot-netsniff-ng.dat" using 1:2 title "netsniff-ng" with linespoints lw 2
