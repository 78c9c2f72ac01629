// Generates test/data/long-double-cases.json from glibc on x86-64 (80-bit long double), with
// Redis 7.0's string2ld and ld2string(LD_STR_HUMAN) as they are: gcc -O1 -o gen long-double-cases.c -lm && ./gen
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <ctype.h>
// Redis's string2ld and ld2string(LD_STR_HUMAN), for ground truth.
static int string2ld(const char *s, long double *dp) {
  char buf[5*1024]; size_t slen = strlen(s);
  if (slen == 0 || slen >= sizeof(buf)) return 0;
  memcpy(buf, s, slen); buf[slen] = 0;
  char *eptr; errno = 0; long double v = strtold(buf, &eptr);
  if (isspace((unsigned char)buf[0]) || eptr[0] != 0 || ((errno == ERANGE) && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) || errno == EINVAL || isnan(v)) return 0;
  *dp = v; return 1;
}
static void human(long double v, char *buf) {
  if (isinf(v)) { strcpy(buf, v > 0 ? "inf" : "-inf"); return; }
  int l = snprintf(buf, 5*1024, "%.17Lf", v);
  if (strchr(buf, '.')) { char *p = buf + l - 1; while (*p == '0') { p--; l--; } if (*p == '.') l--; }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
  buf[l] = 0;
}
int main(void) {
  const char *fixed[] = {"0","1","-1","1.5","0.1","0.2","10.5","9223372036854775806","9223372036854775807","1e3","-2.5","0x10","0x1.8p3","0X1P-3","inf","-inf","+inf","Infinity","nan"," 1","1 ","","1e","1.",".5",".","+.5","-0","1e4932","1e4933","1e-4951","1e-4952","1e-5000","3.14159265358979323846264338327950288","0.1e1","12345678901234567890123","1e308","-1e308","1e-320","5e-324","0.30000000000000004","1.7976931348623157e308","0x","abc","1e+5","1E-5","00012","-0.0","1e-18","123456789.123456789",
  "18446744073709551615","18446744073709551616","36028797018963967.5","0.000000000000000005","0.000000000000000015","0.000000000000000025", NULL};
  char out[6000]; long double a, b;
  printf("{\"parse\":[");
  int first = 1;
  for (int i = 0; fixed[i]; i++) { int ok = string2ld(fixed[i], &a); if (ok) human(a, out); printf("%s[\"%s\",%s%s%s]", first?"":",", fixed[i], ok?"\"":"", ok?out:"null", ok?"\"":""); first = 0; }
  srand(7);
  char s1[64];
  for (int i = 0; i < 200; i++) {
    int kind = rand() % 4; 
    if (kind == 0) snprintf(s1, sizeof s1, "%d.%d", rand() % 100000 - 50000, rand() % 1000000);
    else if (kind == 1) snprintf(s1, sizeof s1, "%de%d", rand() % 1000 - 500, rand() % 80 - 40);
    else if (kind == 2) snprintf(s1, sizeof s1, "%lld%03d", (long long)rand() * rand(), rand() % 1000);
    else snprintf(s1, sizeof s1, "0.%09d%09d", rand() % 1000000000, rand() % 1000000000);
    int ok = string2ld(s1, &a); if (ok) human(a, out);
    printf(",[\"%s\",%s%s%s]", s1, ok?"\"":"", ok?out:"null", ok?"\"":"");
  }
  printf("],\"add\":[");
  first = 1;
  const char *pairs[][2] = {{"9223372036854775806","1e3"},{"9223372036854775807","-2.5"},{"10.5","0.1"},{"0.1","0.2"},{"1","0x10"},{"1e4932","1e4932"},{"-1","1"},{"-0.0","-0"},{"1.5","-1.5"},{"3.0e20","0.5"},{"18446744073709551615","0.5"},{NULL,NULL}};
  for (int i = 0; pairs[i][0]; i++) { string2ld(pairs[i][0], &a); string2ld(pairs[i][1], &b); long double r = a + b; human(r, out); printf("%s[\"%s\",\"%s\",\"%s\"]", first?"":",", pairs[i][0], pairs[i][1], (isinf(r)||isnan(r))?"overflow":out); first = 0; }
  for (int i = 0; i < 300; i++) {
    char x[64], y[64];
    snprintf(x, sizeof x, "%d.%d", rand() % 2000000 - 1000000, rand() % 100000);
    if (rand() % 2) snprintf(y, sizeof y, "%de%d", rand() % 1000 - 500, rand() % 30 - 15); else snprintf(y, sizeof y, "0.%06d", rand() % 1000000);
    string2ld(x, &a); string2ld(y, &b); long double r = a + b; human(r, out);
    char rs[6000]; strcpy(rs, out);
    // chain: the result parsed again and incremented once more
    long double r2; string2ld(rs, &r2); r2 = r2 + b; human(r2, out);
    printf(",[\"%s\",\"%s\",\"%s\",\"%s\"]", x, y, rs, out);
  }
  printf("]}\n");
}
