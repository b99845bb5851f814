#include <iostream>

int main() {
  std::cout << "verdict\n";
  return 0;
}
