// SPDX-License-Identifier: GPL-2.0-or-later
// Fixture of t/lint/function-length.py: every function here is at most 100 lines long, among
// what the reader must not take for functions (braces in literals and comments, initialisers).
#include <string>
#define BRACE_MACRO(x) { x }  // a preprocessor line with a brace
namespace fixture {
struct Table { const char* name; int n; };
extern const Table table{.name = "}{", .n = 1};
static const char* raw = R"x(} } {)x";
class Counter : public Table {
public:
    Counter() : Table{"a", 2}, extra_{3} {}
    int next() const { return extra_ + 1; }
private:
    int extra_;
};
enum class Kind : int { A, B };
int exactly_one_hundred(int x) {
    x += 0;  // { not a brace '}'
    x += 1;  // { not a brace 
    x += 2;  // { not a brace 
    x += 3;  // { not a brace 
    x += 4;  // { not a brace 
    x += 5;  // { not a brace 
    x += 6;  // { not a brace 
    x += 7;  // { not a brace '}'
    x += 8;  // { not a brace 
    x += 9;  // { not a brace 
    x += 10;  // { not a brace 
    x += 11;  // { not a brace 
    x += 12;  // { not a brace 
    x += 13;  // { not a brace 
    x += 14;  // { not a brace '}'
    x += 15;  // { not a brace 
    x += 16;  // { not a brace 
    x += 17;  // { not a brace 
    x += 18;  // { not a brace 
    x += 19;  // { not a brace 
    x += 20;  // { not a brace 
    x += 21;  // { not a brace '}'
    x += 22;  // { not a brace 
    x += 23;  // { not a brace 
    x += 24;  // { not a brace 
    x += 25;  // { not a brace 
    x += 26;  // { not a brace 
    x += 27;  // { not a brace 
    x += 28;  // { not a brace '}'
    x += 29;  // { not a brace 
    x += 30;  // { not a brace 
    x += 31;  // { not a brace 
    x += 32;  // { not a brace 
    x += 33;  // { not a brace 
    x += 34;  // { not a brace 
    x += 35;  // { not a brace '}'
    x += 36;  // { not a brace 
    x += 37;  // { not a brace 
    x += 38;  // { not a brace 
    x += 39;  // { not a brace 
    x += 40;  // { not a brace 
    x += 41;  // { not a brace 
    x += 42;  // { not a brace '}'
    x += 43;  // { not a brace 
    x += 44;  // { not a brace 
    x += 45;  // { not a brace 
    x += 46;  // { not a brace 
    x += 47;  // { not a brace 
    x += 48;  // { not a brace 
    x += 49;  // { not a brace '}'
    x += 50;  // { not a brace 
    x += 51;  // { not a brace 
    x += 52;  // { not a brace 
    x += 53;  // { not a brace 
    x += 54;  // { not a brace 
    x += 55;  // { not a brace 
    x += 56;  // { not a brace '}'
    x += 57;  // { not a brace 
    x += 58;  // { not a brace 
    x += 59;  // { not a brace 
    x += 60;  // { not a brace 
    x += 61;  // { not a brace 
    x += 62;  // { not a brace 
    x += 63;  // { not a brace '}'
    x += 64;  // { not a brace 
    x += 65;  // { not a brace 
    x += 66;  // { not a brace 
    x += 67;  // { not a brace 
    x += 68;  // { not a brace 
    x += 69;  // { not a brace 
    x += 70;  // { not a brace '}'
    x += 71;  // { not a brace 
    x += 72;  // { not a brace 
    x += 73;  // { not a brace 
    x += 74;  // { not a brace 
    x += 75;  // { not a brace 
    x += 76;  // { not a brace 
    x += 77;  // { not a brace '}'
    x += 78;  // { not a brace 
    x += 79;  // { not a brace 
    x += 80;  // { not a brace 
    x += 81;  // { not a brace 
    x += 82;  // { not a brace 
    x += 83;  // { not a brace 
    x += 84;  // { not a brace '}'
    x += 85;  // { not a brace 
    x += 86;  // { not a brace 
    x += 87;  // { not a brace 
    x += 88;  // { not a brace 
    x += 89;  // { not a brace 
    x += 90;  // { not a brace 
    x += 91;  // { not a brace '}'
    x += 92;  // { not a brace 
    x += 93;  // { not a brace 
    x += 94;  // { not a brace 
    x += 95;  // { not a brace 
    x += 96;  // { not a brace 
    x += 97;  // { not a brace 
    x += 98;  // { not a brace '}'
    x += 99;  // { not a brace 
}
int short_one(int x) {
    x += 0;  // { not a brace '}'
    x += 1;  // { not a brace 
    x += 2;  // { not a brace 
}
}  // namespace fixture
