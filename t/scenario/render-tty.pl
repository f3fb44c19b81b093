#!/usr/bin/perl
# render-tty.pl < typescript: the text a terminal shows once the output is done, for output made
# of text, "\r" (back to the start of the line), "\n" and ESC[K (clear to the end of the line).
# Any other escape sequence is an error (exit 2): the tests must know everything that is drawn.
use strict;
use warnings;
binmode STDIN;
binmode STDOUT;
local $/;
my $in = <STDIN> // '';
my @line;
my $col = 0;
while ($in =~ /\G(\r|\n|\e\[K|\e[^\n]{0,8}|[^\r\n\e]+)/gcs) {
    my $t = $1;
    if ($t eq "\r") {
        $col = 0;
    } elsif ($t eq "\n") {
        print join('', map { $_ // ' ' } @line), "\n";
        @line = ();
        $col = 0;
    } elsif ($t eq "\e[K") {
        splice(@line, $col) if $col < @line;
    } elsif (substr($t, 0, 1) eq "\e") {
        printf STDERR "render-tty.pl: unexpected escape sequence %s\n", join(' ', map { sprintf '%02x', ord } split //, $t);
        exit 2;
    } else {
        $line[$col++] = $_ for split //, $t;
    }
}
print join('', map { $_ // ' ' } @line), "\n" if @line;
